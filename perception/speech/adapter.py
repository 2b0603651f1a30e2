"""Whisper's decoder adapted to the robot's speech: a LoRA (peft) trained on synthetic clips.

Whisper tiny.en hears espeak-ng accents and noise badly, worst on the words that decide what the
arm does ("bowl" / "ball", "cyan cylinder"). Its encoder stays frozen: each training clip is
encoded once, exactly as `WhisperTranscriber.encode` encodes speech at run time. A LoRA on the
decoder's self-attention, cross-attention queries and outputs and MLP layers learns to read those features as the
robot's phrases, after the same prompts the recognizer gives at run time (the scene's names,
the correction forms, the plain domain prompt).

- `TRAINING_VOICES`: espeak-ng accents with timbre variants, and the packaged piper voice. None of
  `testset.HELDOUT_VOICES` is among them (neither their accents nor their variants), and the
  babble talkers say other sentences than the test set's.
- `synthesize_example(text, seed)`: one clip, its voice, speed, pitch and condition (clean; white,
  babble or room noise at 30, 20 or 10 dB; reverb) drawn from the seed.
- `synthesize_non_speech(seed)`: a cough, knock, beep, breath, clatter or distant babble, taught to
  decode as nothing (no hallucinated commands).
- `train_adapter(model, examples, config)`: the LoRA; `save_adapter(lora, folder)`;
  `apply_adapter(model, folder)` loads one and merges it into the decoder (same speed as before).
"""

from __future__ import annotations

import json
import math
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np

from perception.speech.audio import WHISPER_RATE, Audio
from perception.speech.testset import Condition, TestVoice, render

#: espeak-ng accents of the training voices (the dev accents of the test set).
TRAINING_ACCENTS: tuple[str, ...] = ("en-us", "en-gb", "en-gb-scotland", "en-029", "en-gb-x-gbclan", "en")
#: espeak-ng timbre variants heard in training ("" = the accent's own); the test set's held-out
#: variants (f3, m7) and the robotic or whispering ones are left out.
TRAINING_VARIANTS: tuple[str, ...] = (
    "", "", "", "m1", "m2", "m3", "m4", "m5", "m6", "m8", "f1", "f2", "f4", "f5", "klatt", "klatt2", "klatt3",
    "Alex", "Andy", "Annie", "belinda", "benjamin", "david", "ed", "edward", "john", "linda", "max", "Mike",
    "paul", "quincy", "rob", "robert", "steph", "travis", "victor", "grandma", "grandpa", "shelby", "norbert",
    "Lee", "Jacky", "zac", "aunty", "boris", "caleb", "Denis", "Gene", "Hugo", "iven", "michel", "pablo",
)
#: Share of training clips spoken by the packaged piper voice.
PIPER_SHARE = 0.15
#: Conditions drawn per clip, with their weights.
TRAINING_CONDITIONS: tuple[tuple[Condition, float], ...] = (
    (Condition("clean"), 0.15),
    (Condition("white 30 dB", "white", 30.0), 0.1),
    (Condition("white 20 dB", "white", 20.0), 0.1),
    (Condition("babble 20 dB", "babble", 20.0), 0.1),
    (Condition("room 20 dB + reverb", "room", 20.0, 0.4), 0.1),
    (Condition("room 20 dB", "room", 20.0), 0.05),
    (Condition("white 15 dB", "white", 15.0), 0.1),
    (Condition("white 10 dB", "white", 10.0), 0.1),
    (Condition("babble 10 dB", "babble", 10.0), 0.1),
    (Condition("room 10 dB + reverb", "room", 10.0, 0.5), 0.1),
)
#: What the training babble talkers say (none of `testset.BABBLE_SENTENCES`).
TRAINING_BABBLE: tuple[str, ...] = (
    "we are out of coffee again so somebody has to go to the shop",
    "the printer on the second floor has been broken since Monday",
    "are you coming to the party on Saturday evening",
    "the weather is supposed to turn cold by the end of the week",
    "I left my keys in the car and had to walk back",
    "she said the flight was delayed by almost three hours",
)
#: Everyday sentences mixed into training so the decoder keeps plain English.
EVERYDAY: tuple[str, ...] = (
    "Thank you, that was good.", "What are you doing?", "Can you hear me?", "I am not sure.",
    "Let me think about it.", "That is fine, thanks.", "Hello there.", "Good job.", "Hang on a second.",
    "Sorry, I did not mean that.", "Could you do that again?", "Why did you stop?", "Okay, that works.",
    "It is over there.", "Never mind, forget it.", "How long will this take?",
)

#: Decoder modules the LoRA adapts (openai-whisper names inside `model.decoder`). The
#: cross-attention's key and value projections stay frozen: they run over all 1500 audio frames of
#: every clip, and adapting them doubled the cost of a training step.
TARGET_MODULES = r"blocks\.\d+\.attn\.(query|key|value|out)|blocks\.\d+\.cross_attn\.(query|out)|blocks\.\d+\.mlp\.(0|2)"


@dataclass(frozen=True)
class AdapterConfig:
    """How the LoRA is shaped and trained."""

    rank: int = 16
    alpha: int = 32
    dropout: float = 0.05
    learning_rate: float = 5e-4
    epochs: int = 2
    batch_size: int = 16
    warmup_steps: int = 50
    weight_decay: float = 0.01
    # weight of whisper's no-speech verdict in the loss (non-speech clips: yes, speech: no)
    no_speech_weight: float = 0.5
    seed: int = 0


@dataclass(frozen=True)
class Example:
    """One training clip: what was said and the prompt the recognizer would give with it."""

    text: str
    prompt: Optional[str]
    voice: str
    condition: str
    seed: int


def training_voice(rng: np.random.Generator) -> TestVoice:
    """A voice drawn for one clip: an espeak-ng accent with a variant, or the piper voice."""
    if rng.random() < PIPER_SHARE:
        return TestVoice("piper joe-us", "piper", "", speed=(0.8, 1.25))
    accent = TRAINING_ACCENTS[int(rng.integers(len(TRAINING_ACCENTS)))]
    variant = TRAINING_VARIANTS[int(rng.integers(len(TRAINING_VARIANTS)))]
    voice = f"{accent}+{variant}" if variant else accent
    return TestVoice(f"espeak {voice}", "espeak", voice, speed=(120.0, 195.0), pitch=(15, 85))


def training_condition(rng: np.random.Generator) -> Condition:
    """A condition drawn by the weights of `TRAINING_CONDITIONS`."""
    weights = np.array([w for _, w in TRAINING_CONDITIONS])
    return TRAINING_CONDITIONS[int(rng.choice(len(weights), p=weights / weights.sum()))][0]


def babble_talkers() -> list[Audio]:
    """The training babble: `TRAINING_BABBLE` said by training accents."""
    from perception.speech.tts import create_tts

    return [create_tts("espeak", voice=v, words_per_minute=165).synthesize(s).resampled(WHISPER_RATE)
            for s, v in zip(TRAINING_BABBLE, TRAINING_ACCENTS)]


def synthesize_example(text: str, seed: int, talkers: list[Audio]) -> tuple[Audio, str, str]:
    """(clip, voice name, condition name) of `text` spoken in a voice and condition drawn from `seed`."""
    rng = np.random.default_rng(seed)
    voice = training_voice(rng)
    condition = training_condition(rng)
    speech = voice.backend_for(rng).synthesize(text).resampled(WHISPER_RATE)
    pad = (float(rng.uniform(0.2, 0.6)), float(rng.uniform(0.5, 1.0)))
    return render(speech, condition, rng, talkers, pad), voice.name, condition.name


#: Sounds that are not speech, taught to decode as nothing (the voice detector lets them through);
#: coughs and distant babble, the ones the first adapter turned into commands, twice as often.
NON_SPEECH_KINDS: tuple[str, ...] = ("cough", "cough", "babble", "babble", "knock", "beep", "breath", "clatter")


def synthesize_non_speech(seed: int, talkers: list[Audio]) -> tuple[Audio, str]:
    """(clip, kind): 1.5-3 s of one non-speech sound over a quiet room, drawn from `seed`. Coughs
    vary in pitch, length and count; knocks and clatter are decaying clicks; beeps are tones;
    breaths are slow swells of noise; babble is talk across the room, far below a talker."""
    from perception.speech.noise import babble_noise, room_noise

    rng = np.random.default_rng(seed)
    rate, n = WHISPER_RATE, int(rng.uniform(1.5, 3.0) * WHISPER_RATE)
    kind = NON_SPEECH_KINDS[int(rng.integers(len(NON_SPEECH_KINDS)))]
    out = 10 ** (rng.uniform(-60, -45) / 20) * room_noise(n, rate, rng)
    if kind == "babble":
        out += 10 ** (rng.uniform(-42, -30) / 20) * babble_noise(n, talkers, rng, voices=3)
        return Audio(out.astype(np.float32), rate), kind
    events = {"cough": (1, 3), "knock": (2, 5), "beep": (1, 3), "breath": (1, 2), "clatter": (4, 10)}[kind]
    level = 10 ** (rng.uniform(-30, -8) / 20)
    for _ in range(int(rng.integers(events[0], events[1] + 1))):
        m = int(rng.uniform(0.05, 0.6) * rate) if kind in ("beep", "breath") else int(rng.uniform(0.08, 0.3) * rate)
        t = np.arange(m) / rate
        if kind == "beep":
            burst = np.sin(2 * np.pi * rng.uniform(300, 2500) * t) * np.minimum(t / 0.005, 1.0)
        elif kind == "breath":
            burst = rng.normal(0, 1, m) * np.sin(np.pi * t / t[-1]) ** 2
        else:
            burst = rng.normal(0, 1, m) * np.minimum(t / 0.003, 1.0) * np.exp(-t / rng.uniform(0.01, 0.15))
        spectrum = np.fft.rfft(burst)
        f = np.fft.rfftfreq(m, 1.0 / rate)
        centre, width = rng.uniform(300, 2500), rng.uniform(200, 1500)
        if kind != "beep":
            burst = np.fft.irfft(spectrum * np.exp(-(((f - centre) / width) ** 2)), m)
        at = int(rng.integers(0, max(1, n - m)))
        out[at : at + m] += level * burst / (np.abs(burst).max() + 1e-12)
    return Audio(out.astype(np.float32), rate), kind


def target_text(text: str) -> str:
    """A phrase written the way whisper writes speech: capitalised, with a full stop ("" stays "")."""
    text = text.strip()
    if not text:
        return ""
    text = text[:1].upper() + text[1:]
    return text if re.search(r"[.?!]$", text) else text + "."


def token_rows(model, examples: Sequence[Example]) -> list[tuple[list[int], int, int]]:
    """Each example as (tokens, n_prefix, sot_index): whisper's own prefix for its prompt (the
    decoding task's initial tokens, as at run time), then the text and end-of-text; sot_index is
    where whisper reads its no-speech probability."""
    import whisper
    from whisper.decoding import DecodingTask

    rows, prefixes = [], {}
    for ex in examples:
        if ex.prompt not in prefixes:
            options = whisper.DecodingOptions(language="en", task="transcribe", without_timestamps=True,
                                              fp16=False, prompt=ex.prompt)
            task = DecodingTask(model, options)
            prefixes[ex.prompt] = (list(task.initial_tokens), task.tokenizer, task.sot_index)
        prefix, tokenizer, sot_index = prefixes[ex.prompt]
        written = target_text(ex.text)
        text = (tokenizer.encode(" " + written) if written else []) + [tokenizer.eot]
        rows.append((prefix + text, len(prefix), sot_index))
    return rows


def lora_decoder(model, config: AdapterConfig):
    """`model.decoder` wrapped with a fresh LoRA (peft)."""
    from peft import LoraConfig, get_peft_model

    lora = LoraConfig(r=config.rank, lora_alpha=config.alpha, lora_dropout=config.dropout,
                      target_modules=TARGET_MODULES, bias="none")
    return get_peft_model(model.decoder, lora)


def train_adapter(model, features, examples: Sequence[Example], config: AdapterConfig = AdapterConfig(),
                  validation: Optional[tuple] = None, log: Callable[[str], None] = print):
    """Train a LoRA on `model.decoder` to say each example's text from its encoder `features`
    (a float16 tensor [n, n_ctx, n_state], row k for example k). `validation`: (features,
    examples) whose loss is logged each epoch. Returns the peft-wrapped decoder."""
    import torch

    torch.manual_seed(config.seed)
    decoder = lora_decoder(model, config)
    rows = token_rows(model, examples)
    silence_token = no_speech_token(model)
    params = [p for p in decoder.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=config.weight_decay)
    steps = config.epochs * math.ceil(len(rows) / config.batch_size)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / config.warmup_steps)
                                                 * 0.5 * (1 + math.cos(math.pi * min(s / steps, 1.0))))
    order_rng = np.random.default_rng(config.seed)
    val_rows = token_rows(model, validation[1]) if validation else None
    step = 0
    for epoch in range(config.epochs):
        decoder.train()
        start, total, count = time.perf_counter(), 0.0, 0
        for batch in np.array_split(order_rng.permutation(len(rows)),
                                    max(1, math.ceil(len(rows) / config.batch_size))):
            loss = _batch_loss(decoder, features, rows, batch, config.no_speech_weight, silence_token)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            schedule.step()
            step += 1
            total, count = total + float(loss.detach()) * len(batch), count + len(batch)
        line = f"epoch {epoch + 1}/{config.epochs}: train loss {total / count:.3f}"
        if val_rows:
            line += f", validation loss {evaluate_loss(decoder, validation[0], val_rows):.3f}"
        log(f"{line} ({time.perf_counter() - start:.0f} s, {step} steps)")
    decoder.eval()
    return decoder


def evaluate_loss(decoder, features, rows: list[tuple[list[int], int, int]], batch_size: int = 32) -> float:
    """Mean per-token loss over `rows` (eval mode, no gradients)."""
    import torch

    decoder.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for batch in np.array_split(np.arange(len(rows)), max(1, math.ceil(len(rows) / batch_size))):
            total += float(_batch_loss(decoder, features, rows, batch)) * len(batch)
            count += len(batch)
    return total / max(count, 1)


def no_speech_token(model) -> int:
    """Whisper's "no speech" token for `model`: its probability at the start of the transcript is
    whisper's own verdict that a clip holds no speech."""
    from whisper.tokenizer import get_tokenizer

    return get_tokenizer(model.is_multilingual, num_languages=model.num_languages).no_speech


def _batch_loss(decoder, features, rows, batch, no_speech_weight: float = 0.0, no_speech: int = 0):
    """Cross-entropy of the text tokens (after each row's prefix), right-padded rows; plus, with
    `no_speech_weight`, whisper's no-speech verdict at each row's start-of-transcript as a
    yes/no target (yes for a row with no text)."""
    import torch

    length = max(len(rows[i][0]) for i in batch)
    tokens = torch.zeros((len(batch), length), dtype=torch.long)
    targets = torch.full((len(batch), length), -100, dtype=torch.long)
    sot = torch.zeros(len(batch), dtype=torch.long)
    silent = torch.zeros(len(batch), dtype=torch.bool)
    for r, i in enumerate(batch):
        seq, n_prefix, sot[r] = rows[i]
        silent[r] = len(seq) == n_prefix + 1
        tokens[r, : len(seq)] = torch.tensor(seq)
        targets[r, n_prefix - 1 : len(seq) - 1] = torch.tensor(seq[n_prefix:])
    audio = features[torch.as_tensor(batch)].float()
    # whisper's TextDecoder.forward, with the vocabulary projection only where a token is scored
    # (the prompt's positions are most of each row; their 51,864-way logits are never used)
    text = decoder.get_base_model() if hasattr(decoder, "get_base_model") else decoder
    x = text.token_embedding(tokens) + text.positional_embedding[:length]
    for block in text.blocks:
        x = block(x, audio, mask=text.mask)
    x = text.ln(x)
    scored = targets != -100
    loss = torch.nn.functional.cross_entropy((x[scored] @ text.token_embedding.weight.T).float(), targets[scored])
    if no_speech_weight:
        first = x[torch.arange(len(batch)), sot] @ text.token_embedding.weight.T
        log_p = torch.log_softmax(first.float(), dim=-1)[:, no_speech]
        log_not = torch.log1p(-log_p.exp().clamp(max=1 - 1e-6))
        loss = loss + no_speech_weight * -torch.where(silent, log_p, log_not).mean()
    return loss


def save_adapter(decoder, folder: str | Path, info: dict) -> Path:
    """Write the LoRA (peft's adapter files) and `info` (how it was trained) to `folder`."""
    folder = Path(folder)
    decoder.save_pretrained(str(folder))
    (folder / "README.md").unlink(missing_ok=True)  # peft's blank model card; training.json says it all
    (folder / "training.json").write_text(json.dumps(info, indent=1))
    return folder


def apply_adapter(model, folder: str | Path):
    """Load the LoRA in `folder` onto `model.decoder` and merge it in; returns `model`.

    Raises ValueError naming the folder when it holds no adapter or a broken one."""
    from peft import PeftModel

    folder = Path(folder)
    if not (folder / "adapter_config.json").exists():
        raise ValueError(f"{folder}: no adapter_config.json (not a speech adapter folder)")
    try:
        wrapped = PeftModel.from_pretrained(model.decoder, str(folder))
    except Exception as exc:  # a truncated or foreign safetensors file
        raise ValueError(f"{folder}/adapter_model.safetensors: cannot load the speech adapter ({exc})") from exc
    model.decoder = wrapped.merge_and_unload()
    return model.eval()


def encode_examples(jobs: Sequence[tuple[str, int]], model_spec: str, threads: int = 1):
    """Synthesize and encode each (text, seed) (text "": a non-speech sound): returns (float16
    features [n, n_ctx, n_state], [(voice, condition, heard_speech)]). A clip the voice detector
    finds no speech in gets zero features and heard_speech False (training leaves it out)."""
    import torch

    from perception.speech.stt import SttConfig, WhisperTranscriber

    torch.set_num_threads(threads)
    stt = WhisperTranscriber(SttConfig(model=model_spec))
    dims = stt.model.dims
    talkers = babble_talkers()
    out = np.zeros((len(jobs), dims.n_audio_ctx, dims.n_audio_state), np.float16)
    info = []
    for k, (text, seed) in enumerate(jobs):
        if text:
            clip, voice, condition = synthesize_example(text, seed, talkers)
        else:
            (clip, kind), voice = synthesize_non_speech(seed, talkers), "-"
            condition = f"non-speech: {kind}"
        features = stt.encode(clip)
        if features is not None:
            out[k] = features[0].numpy().astype(np.float16)
        info.append((voice, condition, features is not None))
    return out, info
