"""Scripted speech for simulated people: text -> speech clip with white noise at a given SNR.

`synthesize("the one on the left", voice="espeak", snr_db=20, seed=3)` returns 16 kHz audio
with a short quiet lead-in and tail (as a microphone would record it). Noise comes from a
generator seeded by `seed`, so the same call gives the same clip.
"""

from __future__ import annotations

import numpy as np

from perception.speech.audio import WHISPER_RATE, Audio
from perception.speech.tts import TtsBackend, create_tts


def add_noise(audio: Audio, snr_db: float | None, rng: np.random.Generator) -> Audio:
    """Add white Gaussian noise so that speech power / noise power = `snr_db` (None: unchanged).

    Speech power is measured over the voiced part only (frames above -50 dBFS) so padding
    silence does not make the noise quieter than asked.
    """
    if snr_db is None:
        return audio
    x = audio.samples.astype(np.float64)
    voiced = x[np.abs(x) > 10 ** (-50 / 20)]
    power = float(np.mean(voiced**2)) if len(voiced) else 0.0
    if power == 0.0:
        return audio
    noise = rng.normal(0.0, np.sqrt(power / 10 ** (snr_db / 10)), size=len(x))
    return Audio((x + noise).astype(np.float32), audio.rate)


class VoiceSynthesizer:
    """Keeps one TTS backend per voice name (piper's voice takes ~0.4 s to load)."""

    def __init__(self, backends: dict[str, TtsBackend] | None = None) -> None:
        self._backends: dict[str, TtsBackend] = dict(backends or {})

    def backend(self, voice: str) -> TtsBackend:
        if voice not in self._backends:
            self._backends[voice] = create_tts(voice)
        return self._backends[voice]

    def synthesize(self, text: str, voice: str = "piper", snr_db: float | None = None,
                   seed: int = 0, pad_s: float = 0.3, rate: int = WHISPER_RATE) -> Audio:
        """Speak `text` with `voice` (a TTS registry name), pad with `pad_s` of quiet, add noise.

        Returns mono float32 at `rate` Hz. The noise covers the padding too, like a room would.
        """
        speech = self.backend(voice).synthesize(text).resampled(rate)
        pad = Audio.silence(pad_s, rate)
        clip = Audio.concat([pad, speech, pad], rate)
        return add_noise(clip, snr_db, np.random.default_rng(seed))


def synthesize(text: str, voice: str = "piper", snr_db: float | None = None, seed: int = 0,
               synthesizer: VoiceSynthesizer | None = None) -> Audio:
    """One-off convenience over `VoiceSynthesizer.synthesize` (pass a synthesizer to reuse voices)."""
    return (synthesizer or VoiceSynthesizer()).synthesize(text, voice=voice, snr_db=snr_db, seed=seed)
