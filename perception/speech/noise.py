"""Acoustic conditions for test clips: noise at an SNR, babble, room noise, coughs, reverb.

Everything is numpy on float32 mono clips and seeded by a `np.random.Generator`, so the same
seed gives the same clip. SNR is speech power (voiced samples only, above -50 dBFS, so padding
does not count) over noise power, in dB.
- white: Gaussian, flat spectrum;
- babble: several other utterances (other voices, other words) summed and looped;
- room: ventilation-like noise (pink-ish, most energy below 500 Hz) plus mains hum at 50 Hz
  and its harmonics;
- reverb: convolution with a synthetic room impulse response: a direct path, then Gaussian
  noise under an exponential decay reaching -60 dB at `rt60_s`.
"""

from __future__ import annotations

import numpy as np

from perception.speech.audio import Audio

#: Level (dBFS of a sample) above which a sample counts as speech for the SNR.
VOICED_DB = -50.0


def speech_power(samples: np.ndarray) -> float:
    """Mean power of the voiced samples (0.0 for a silent clip)."""
    x = samples.astype(np.float64)
    voiced = x[np.abs(x) > 10 ** (VOICED_DB / 20)]
    return float(np.mean(voiced**2)) if len(voiced) else 0.0


def mix_at_snr(speech: Audio, noise: np.ndarray, snr_db: float) -> Audio:
    """`speech` plus `noise` (same length or longer; cut) scaled to `snr_db` below the speech."""
    power = speech_power(speech.samples)
    noise = np.asarray(noise[: len(speech.samples)], np.float64)
    noise_power = float(np.mean(noise**2)) if len(noise) else 0.0
    if power == 0.0 or noise_power == 0.0:
        return speech
    gain = np.sqrt(power / 10 ** (snr_db / 10) / noise_power)
    return Audio((speech.samples + gain * noise).astype(np.float32), speech.rate)


def white_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """Unit-variance Gaussian noise, shape (n,)."""
    return rng.normal(0.0, 1.0, n)


def room_noise(n: int, rate: int, rng: np.random.Generator) -> np.ndarray:
    """Ventilation rumble (1/f-shaped, rolled off above ~500 Hz) plus mains hum; unit power."""
    spectrum = np.fft.rfft(rng.normal(0.0, 1.0, n))
    freqs = np.fft.rfftfreq(n, 1.0 / rate)
    shape = 1.0 / np.sqrt(np.maximum(freqs, 20.0)) / (1.0 + (freqs / 500.0) ** 2)
    rumble = np.fft.irfft(spectrum * shape, n)
    t = np.arange(n) / rate
    hum_hz = float(rng.choice([50.0, 60.0]))
    hum = sum(np.sin(2 * np.pi * hum_hz * k * t + rng.uniform(0, 2 * np.pi)) / k for k in (1, 2, 3))
    rumble /= np.sqrt(np.mean(rumble**2)) + 1e-12
    hum /= np.sqrt(np.mean(hum**2)) + 1e-12
    out = rumble + 0.3 * hum
    return out / (np.sqrt(np.mean(out**2)) + 1e-12)


def babble_noise(n: int, talkers: list[Audio], rng: np.random.Generator, voices: int = 4) -> np.ndarray:
    """`voices` talkers (drawn from `talkers`, at the clip's rate) each looped from a random
    offset and summed at equal power; unit power. Sounds like a room of people talking."""
    if not talkers:
        raise ValueError("babble needs at least one talker clip")
    out = np.zeros(n)
    for k in rng.choice(len(talkers), size=min(voices, len(talkers)), replace=False):
        x = talkers[int(k)].samples.astype(np.float64)
        x = x / (np.sqrt(np.mean(x**2)) + 1e-12)
        reps = int(np.ceil((n + len(x)) / max(len(x), 1)))
        start = int(rng.integers(0, max(len(x), 1)))
        out += np.tile(x, reps)[start : start + n]
    return out / (np.sqrt(np.mean(out**2)) + 1e-12)


def cough(rate: int, rng: np.random.Generator) -> np.ndarray:
    """One or two cough-like bursts (band-passed noise, 5 ms attack, ~80 ms decay), ~0.5 s."""
    n = int(0.5 * rate)
    out = np.zeros(n)
    for start_s in [0.02] + ([0.25] if rng.random() < 0.5 else []):
        m = int(0.2 * rate)
        t = np.arange(m) / rate
        burst = rng.normal(0.0, 1.0, m) * np.minimum(t / 0.005, 1.0) * np.exp(-t / 0.08)
        spec = np.fft.rfft(burst)
        f = np.fft.rfftfreq(m, 1.0 / rate)
        burst = np.fft.irfft(spec * np.exp(-(((f - 900.0) / 700.0) ** 2)), m)
        i = int(start_s * rate)
        out[i : i + m] += burst[: n - i]
    return 0.3 * out / (np.abs(out).max() + 1e-12)


def room_impulse(rate: int, rt60_s: float, rng: np.random.Generator, direct_ratio_db: float = 3.0) -> np.ndarray:
    """Synthetic room impulse response, shape (~rt60_s * rate,): a unit direct path, then a
    decaying noise tail (amplitude -60 dB at rt60_s) whose energy is `direct_ratio_db` below it."""
    n = max(2, int(rt60_s * rate))
    t = np.arange(n) / rate
    tail = rng.normal(0.0, 1.0, n) * np.exp(-6.9 * t / rt60_s)
    tail[0] = 0.0
    tail *= np.sqrt(10 ** (-direct_ratio_db / 10) / (np.sum(tail**2) + 1e-12))
    tail[0] = 1.0
    return tail


def reverberate(audio: Audio, rt60_s: float, rng: np.random.Generator) -> Audio:
    """`audio` as heard in a room with reverberation time `rt60_s`; same length, same peak level."""
    x = audio.samples.astype(np.float64)
    ir = room_impulse(audio.rate, rt60_s, rng)
    n = len(x) + len(ir) - 1
    size = 1 << (n - 1).bit_length()
    y = np.fft.irfft(np.fft.rfft(x, size) * np.fft.rfft(ir, size), size)[: len(x)]
    peak = np.abs(x).max()
    y *= peak / (np.abs(y).max() + 1e-12)
    return Audio(y.astype(np.float32), audio.rate)
