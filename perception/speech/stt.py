"""Speech to text with openai-whisper: `WhisperTranscriber.transcribe(audio) -> Transcript`.

Contract:
- any rate in (resampled to 16 kHz here); no ffmpeg involved;
- a clip with no speech (silence, steady noise) returns text "" without running the model, and
  whisper's own "no speech" verdict also gives "": callers treat "" as "ask again";
- the Transcript carries whisper's confidence (mean token log-probability, no-speech
  probability) so a dialogue can confirm a doubtful transcript ("did you say ...?").
Clips up to 30 s are decoded in one greedy pass (the robot's utterances are short); longer ones
are cut in the pauses the voice-activity detector found into pieces of at most 30 s, each one
greedy pass. (Whisper's own sliding-window `transcribe` dropped words at its window seams, a
different few on each run: its temperature fallback samples.) Speech running over 30 s with no
pause still goes through that sliding window.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from perception.speech.audio import WHISPER_RATE, Audio, read_wav
from perception.speech.models import EMBEDDED_MODEL, load_whisper
from perception.speech.vad import VadConfig, speech_segments

# Whisper's stock non-speech outputs on silence/noise: "[BLANK_AUDIO]", "(music)", "...".
_NON_SPEECH = re.compile(r"^[\s\W]*$|^\s*[\[\(][^\]\)]*[\]\)]\s*$")
#: Robot-domain decoder prompt: the words people use with the arm (see benchmarks/bench_speech.py
#: for what it changes). Whisper reads it as preceding context, so it is phrased as speech.
DOMAIN_PROMPT = (
    "Talking to a robot arm about cubes, blocks, balls, spheres, cylinders and bowls that are red, green, "
    "blue, yellow, orange, purple, pink, cyan, brown, gray, white or black. Pick up the red cube. "
    "Put it in the bowl. The one on the left. No, the other one. Stop."
)
#: Decoder prompt while the arm moves or has just moved: the forms corrections take (the scene's
#: names are added by `understanding.scene_prompt`).
CORRECTION_PROMPT = (
    "Talking to a robot arm while it moves. Stop! Wait, hold on. No, the other one. No, the blue "
    "cube. Not that one, the ball. Put it in the green bowl instead. Put it back. Never mind. Okay, go on."
)
#: Quiet kept after the last speech frame, seconds: whisper drops a final word that ends flush
#: with the end of its input.
_TAIL_S = 1.0
#: Longest clip decoded in one pass: whisper's 30 s window, in seconds.
_WINDOW_S = 30.0


@dataclass(frozen=True)
class Transcript:
    """What was heard. `text` is "" when nothing intelligible was said."""

    text: str
    # mean log-probability per decoded token, nats (0 = certain; below about -0.8 is doubtful)
    avg_logprob: float = 0.0
    # whisper's probability that the clip holds no speech at all
    no_speech_prob: float = 1.0
    # length of the input clip, seconds
    audio_s: float = 0.0
    # wall-clock seconds spent transcribing (resampling + VAD + model)
    compute_s: float = 0.0

    @property
    def confidence(self) -> float:
        """Rough probability the transcript is right: exp(avg_logprob) * (1 - no_speech_prob)."""
        return 0.0 if not self.text else math.exp(self.avg_logprob) * (1.0 - self.no_speech_prob)


@dataclass(frozen=True)
class SttConfig:
    """Speech-to-text settings."""

    # model spec for models.load_whisper: "tiny.en" (packaged), a .pt path, a CT2 folder, a name
    model: str = EMBEDDED_MODEL
    # decoder LoRA merged into the model (`perception.speech.adapter`): a folder, "default" (the
    # committed one, for tiny.en only) or None (whisper as shipped)
    adapter: str | None = "default"
    # where converted checkpoints are cached (None: $ASKVLA_CACHE or ~/.cache/askvla)
    cache_dir: str | None = None
    # text that primes the decoder with the robot's vocabulary (None: no prompt). On by default:
    # it cut word errors on synthetic commands (benchmarks/bench_speech.py --compare-prompt)
    prompt: str | None = DOMAIN_PROMPT
    # beam search width (None: greedy); wider beams fix some mis-hearings for little extra time
    beam_size: int | None = None
    # whisper's own silence rule: drop text when no_speech_prob > this AND avg_logprob < logprob_floor,
    # or when no_speech_prob > no_speech_certain (the adapted decoder is trained to give it)
    no_speech_threshold: float = 0.6
    logprob_floor: float = -1.0
    no_speech_certain: float = 0.9
    # voice-activity settings used to skip silent clips and trim long silences
    vad: VadConfig = field(default_factory=VadConfig)
    # torch device for the model
    device: str = "cpu"


class WhisperTranscriber:
    """Wraps one loaded whisper model. The model loads on first use (~0.5 s for tiny.en)."""

    def __init__(self, config: SttConfig = SttConfig(), model=None) -> None:
        self.config = config
        self._model = model

    @property
    def model(self):
        """The underlying `whisper.model.Whisper` (loaded lazily)."""
        if self._model is None:
            self._model = load_whisper(self.config.model, self.config.cache_dir, self.config.device,
                                       self.config.adapter)
        return self._model

    def transcribe(self, audio: Audio) -> Transcript:
        """Transcribe one clip (any rate); "" when it holds no speech."""
        start = time.perf_counter()
        clip = audio.resampled(WHISPER_RATE)
        segments = speech_segments(clip, self.config.vad)
        if not segments:
            return Transcript("", audio_s=audio.duration_s, compute_s=time.perf_counter() - start)
        # keep pre-roll before the first and some quiet after the last word: whisper likes a margin
        lo, hi = self._speech_span(segments, len(clip.samples))
        samples = clip.samples[lo:hi]
        if len(samples) <= _WINDOW_S * WHISPER_RATE:
            text, logprob, no_speech = self._decode_window(samples)
        else:
            text, logprob, no_speech = self._decode_pieces(clip.samples, segments)
        if _NON_SPEECH.match(text) or no_speech > self.config.no_speech_certain or (
            no_speech > self.config.no_speech_threshold and logprob < self.config.logprob_floor
        ):
            text = ""
        return Transcript(text, logprob, no_speech, audio.duration_s, time.perf_counter() - start)

    def transcribe_nbest(self, audio: Audio, prompt: str | None = None, beam_size: int = 5,
                         greedy_first: bool = True) -> "NBest":
        """Up to `beam_size` hypotheses, best first, for rescoring (`perception.speech.understanding`).

        The audio is encoded once. With `greedy_first` the greedy hypothesis comes first and the
        beam search runs only when `NBest.expand()` is called (the caller decides whether the
        greedy text is good enough). `prompt` None: the configured prompt. A clip the voice
        detector finds no speech in gives no hypotheses without running the model.
        """
        start = time.perf_counter()
        prompt = self.config.prompt if prompt is None else prompt
        features = self.encode(audio)
        if features is None:
            return NBest([], 1.0, audio.duration_s, time.perf_counter() - start)
        model = self.model
        nbest = NBest([], 1.0, audio.duration_s, 0.0, _decoder=lambda k: _decode_hypotheses(model, features, prompt, k),
                      _beam_size=beam_size)
        nbest.expand(1 if greedy_first else beam_size)
        nbest.compute_s += time.perf_counter() - start
        return nbest

    def encode(self, audio: Audio):
        """The encoder's features (1, n_ctx, n_state) of the clip's speech (its first 30 s, with
        pre-roll before and quiet after), or None when the voice detector finds no speech."""
        import torch
        import whisper

        clip = audio.resampled(WHISPER_RATE)
        segments = speech_segments(clip, self.config.vad)
        if not segments:
            return None
        lo, hi = self._speech_span(segments, len(clip.samples))
        samples = clip.samples[lo:hi][: int(_WINDOW_S * WHISPER_RATE)]
        model = self.model
        mel = whisper.log_mel_spectrogram(whisper.pad_or_trim(torch.from_numpy(samples)), model.dims.n_mels)
        with torch.inference_mode():
            return model.embed_audio(mel.unsqueeze(0).to(model.device))

    def _speech_span(self, segments: list, n_samples: int) -> tuple[int, int]:
        """Samples from the pre-roll before the first speech to the quiet kept after the last."""
        lo = max(0, int((segments[0].start_s - self.config.vad.pre_roll_s) * WHISPER_RATE))
        return lo, min(n_samples, int((segments[-1].end_s + _TAIL_S) * WHISPER_RATE))

    def transcribe_file(self, path: str | Path) -> Transcript:
        """Transcribe a WAV file (any rate / sample format)."""
        return self.transcribe(read_wav(path))

    def _decode_window(self, samples: np.ndarray) -> tuple[str, float, float]:
        """One greedy pass over <= 30 s (padded to whisper's fixed 30 s / 3000-frame input)."""
        import torch
        import whisper

        model = self.model
        mel = whisper.log_mel_spectrogram(whisper.pad_or_trim(torch.from_numpy(samples)), model.dims.n_mels)
        options = whisper.DecodingOptions(
            language="en", task="transcribe", temperature=0.0, without_timestamps=True,
            fp16=False, prompt=self.config.prompt, beam_size=self.config.beam_size,
        )
        with torch.inference_mode():
            result = whisper.decode(model, mel.to(model.device), options)
        return result.text.strip(), float(result.avg_logprob), float(result.no_speech_prob)

    def _decode_pieces(self, samples: np.ndarray, segments: list) -> tuple[str, float, float]:
        """A long clip in pieces cut in its pauses; confidence is the duration-weighted mean."""
        results, weights = [], []
        for lo, hi in pause_cuts(segments, len(samples), self.config.vad.pre_roll_s):
            piece = samples[lo:hi]
            long = len(piece) > _WINDOW_S * WHISPER_RATE
            results.append(self._decode_sliding(piece) if long else self._decode_window(piece))
            weights.append(hi - lo)
        text = " ".join(r[0] for r in results if r[0])
        logprob = float(np.average([r[1] for r in results], weights=weights))
        no_speech = float(np.average([r[2] for r in results], weights=weights))
        return text, logprob, no_speech

    def _decode_sliding(self, samples: np.ndarray) -> tuple[str, float, float]:
        """Whisper's sliding-window transcription, for speech over 30 s without a pause;
        confidence is the duration-weighted mean over its segments."""
        import whisper

        out = whisper.transcribe(
            self.model, samples, language="en", fp16=False, initial_prompt=self.config.prompt,
            condition_on_previous_text=False, verbose=None,
        )
        segs = out["segments"] or [{"avg_logprob": -10.0, "no_speech_prob": 1.0, "start": 0.0, "end": 1.0}]
        weights = np.array([max(s["end"] - s["start"], 1e-3) for s in segs])
        logprob = float(np.average([s["avg_logprob"] for s in segs], weights=weights))
        no_speech = float(np.average([s["no_speech_prob"] for s in segs], weights=weights))
        return out["text"].strip(), logprob, no_speech


@dataclass(frozen=True)
class Hypothesis:
    """One decoding of a clip: its text and mean token log-probability (nats)."""

    text: str
    avg_logprob: float
    # greedy decodes only: each word with the decoder's probability of it (product over its
    # tokens), in order; empty for beam hypotheses
    words: tuple[tuple[str, float], ...] = ()


@dataclass
class NBest:
    """Hypotheses for one clip, best first by the decoder's own score."""

    hypotheses: list[Hypothesis]
    # whisper's probability that the clip holds no speech (1.0 when the detector found none)
    no_speech_prob: float
    audio_s: float = 0.0
    # wall-clock seconds spent so far (resampling + VAD + encoder + every decode)
    compute_s: float = 0.0
    _decoder: object = None
    _beam_size: int = 5
    _beamed: bool = False

    @property
    def expanded(self) -> bool:
        """True once the beam search has run (or cannot: no speech)."""
        return self._decoder is None or self._beamed

    def expand(self, beam_size: int | None = None) -> "NBest":
        """Run the decoder (beam `beam_size`, default the requested width; 1 = greedy) and
        merge its hypotheses after those already there. Idempotent once beam search ran."""
        k = beam_size or self._beam_size
        if self.expanded:
            return self
        self._beamed = k > 1
        start = time.perf_counter()
        found, self.no_speech_prob = self._decoder(k)  # type: ignore[operator]
        seen = {h.text for h in self.hypotheses}
        self.hypotheses += [h for h in found if h.text not in seen]
        self.compute_s += time.perf_counter() - start
        return self


def _decode_hypotheses(model, features, prompt: str | None, beam_size: int) -> tuple[list[Hypothesis], float]:
    """Decode encoded audio `features` (1, n_ctx, n_state); beam_size 1 is greedy. All finished
    beams are returned (whisper's ranker keeps only the best: it is wrapped to see them all)."""
    import torch
    import whisper
    from whisper.decoding import DecodingTask

    options = whisper.DecodingOptions(language="en", task="transcribe", temperature=0.0, without_timestamps=True,
                                      fp16=False, prompt=prompt, beam_size=beam_size if beam_size > 1 else None)
    task = DecodingTask(model, options)
    seen: dict[str, list] = {}
    rank = task.sequence_ranker.rank

    def keep_all(tokens, sum_logprobs):
        seen["tokens"], seen["logprobs"] = tokens[0], sum_logprobs[0]
        return rank(tokens, sum_logprobs)

    task.sequence_ranker.rank = keep_all
    steps: list[tuple[int, float]] = []
    if beam_size <= 1:
        task.logit_filters.append(_StepRecorder(steps))
    with torch.inference_mode():
        result = task.run(features)[0]
    hyps = [Hypothesis(task.tokenizer.decode(t.tolist()).strip(), float(lp) / (len(t) + 1))
            for t, lp in zip(seen["tokens"], seen["logprobs"])]
    if steps and hyps:
        hyps = [Hypothesis(hyps[0].text, hyps[0].avg_logprob, _word_probs(task.tokenizer, steps))]
    hyps.sort(key=lambda h: -h.avg_logprob)
    return [h for h in hyps if h.text], float(result.no_speech_prob)


class _StepRecorder:
    """A whisper logit filter, run last, that records the greedy choice at every step: (token,
    log-probability). With temperature 0 the decoder takes the arg-max of these very logits."""

    def __init__(self, steps: list[tuple[int, float]]) -> None:
        self.steps = steps

    def apply(self, logits, tokens) -> None:
        import torch

        logprobs = torch.log_softmax(logits[0].float(), dim=-1)
        token = int(torch.argmax(logprobs))
        self.steps.append((token, float(logprobs[token])))


def _word_probs(tokenizer, steps: list[tuple[int, float]]) -> tuple[tuple[str, float], ...]:
    """Greedy steps grouped into words (a token opening with a space starts one), each with the
    product of its tokens' probabilities; punctuation is dropped."""
    words: list[list] = []
    for token, logprob in steps:
        if token >= tokenizer.eot:
            break
        piece = tokenizer.decode([token])
        if not re.search(r"\w", piece):
            continue  # punctuation: whisper's doubt about a comma says nothing about the words
        if piece.startswith(" ") or not words:
            words.append(["", 0.0])
        words[-1][0] += piece
        words[-1][1] += logprob
    out = [(re.sub(r"[^\w'-]", "", w).lower(), math.exp(lp)) for w, lp in words]
    return tuple((w, p) for w, p in out if w)


def pause_cuts(segments: list, n_samples: int, pre_roll_s: float) -> list[tuple[int, int]]:
    """(start, end) sample ranges of at most ``_WINDOW_S`` (unless one stretch of speech is
    longer) that cover every speech segment, with ``pre_roll_s`` before and ``_TAIL_S`` after
    it, cut only in the pauses between segments and never into a neighbour's speech."""
    rate, window = WHISPER_RATE, int(_WINDOW_S * WHISPER_RATE)
    pieces: list[list[int]] = []
    for k, seg in enumerate(segments):
        prev_end = segments[k - 1].end_s if k > 0 else 0.0
        next_start = segments[k + 1].start_s if k + 1 < len(segments) else n_samples / rate
        lo = int(max(prev_end, seg.start_s - pre_roll_s, 0.0) * rate)
        hi = int(min(next_start, seg.end_s + _TAIL_S) * rate)
        if pieces and hi - pieces[-1][0] <= window:
            pieces[-1][1] = hi
        else:
            pieces.append([lo, hi])
    return [(lo, hi) for lo, hi in pieces]
