"""Audio clips as typed data: mono float32 samples with their rate, WAV read/write, resampling.

Everything in the speech stack exchanges `Audio`; whisper wants 16 kHz (`WHISPER_RATE`), piper
speaks at 22.05 kHz, sound cards at 44.1/48 kHz. Resampling is FFT-based (band-limited, so no
aliasing when going down) in numpy: no ffmpeg, scipy or soxr needed.
"""

from __future__ import annotations

import struct
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: Sample rate whisper's feature extractor expects, Hz.
WHISPER_RATE = 16_000

# WAV format tags (RIFF "fmt " chunk).
_PCM, _FLOAT, _EXTENSIBLE = 1, 3, 0xFFFE


@dataclass(frozen=True)
class Audio:
    """A mono clip. `samples`: float32, shape (n,), nominally in [-1, 1]; `rate`: Hz."""

    samples: np.ndarray
    rate: int
    # What was wrong with the file it came from but still let it be read (a truncated data
    # chunk): one line each, for the caller to show. Empty for a whole clip.
    warnings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        s = np.asarray(self.samples, dtype=np.float32)
        if s.ndim == 2:  # (n, channels) -> mono by averaging channels
            s = s.mean(axis=1)
        if s.ndim != 1:
            raise ValueError(f"audio must be (n,) or (n, channels), got shape {s.shape}")
        object.__setattr__(self, "samples", s)
        if self.rate <= 0:
            raise ValueError(f"sample rate must be positive, got {self.rate}")

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.rate

    def rms(self) -> float:
        """Root-mean-square amplitude (0 for an empty clip)."""
        return float(np.sqrt(np.mean(self.samples.astype(np.float64) ** 2))) if len(self.samples) else 0.0

    def resampled(self, rate: int) -> "Audio":
        """This clip at `rate` Hz (self when already there)."""
        return self if rate == self.rate else Audio(resample(self.samples, self.rate, rate), rate)

    @classmethod
    def silence(cls, seconds: float, rate: int = WHISPER_RATE) -> "Audio":
        return cls(np.zeros(int(round(seconds * rate)), np.float32), rate)

    @classmethod
    def concat(cls, clips: list["Audio"], rate: int = WHISPER_RATE) -> "Audio":
        """Join clips end to end at `rate` (each is resampled first)."""
        parts = [c.resampled(rate).samples for c in clips]
        return cls(np.concatenate(parts) if parts else np.zeros(0, np.float32), rate)


def resample(x: np.ndarray, src_rate: int, dst_rate: int) -> np.ndarray:
    """Band-limited resampling by zero-padding/truncating the spectrum; float32 (m,) out.

    Truncating the spectrum is an ideal low-pass at the new Nyquist, so downsampling does not
    alias. The clip is treated as periodic: a few ms of ringing at the edges, which speech
    clips (silence at both ends) do not notice.
    """
    x = np.asarray(x, dtype=np.float32)
    if src_rate == dst_rate or len(x) == 0:
        return x.copy()
    n_out = int(round(len(x) * dst_rate / src_rate))
    spectrum = np.fft.rfft(x.astype(np.float64))
    out = np.zeros(n_out // 2 + 1, dtype=np.complex128)
    k = min(len(out), len(spectrum))
    out[:k] = spectrum[:k]
    # irfft normalises by n_out; rescale so amplitudes are preserved.
    return (np.fft.irfft(out, n_out) * (n_out / len(x))).astype(np.float32)


def _decode_pcm(raw: bytes, width: int, fmt: int) -> np.ndarray:
    """Interleaved sample bytes -> float32 in [-1, 1]."""
    if fmt == _FLOAT:
        return np.frombuffer(raw, dtype="<f4" if width == 4 else "<f8").astype(np.float32)
    if width == 1:  # 8-bit WAV is unsigned
        return (np.frombuffer(raw, np.uint8).astype(np.float32) - 128.0) / 128.0
    if width == 2:
        return np.frombuffer(raw, "<i2").astype(np.float32) / 32768.0
    if width == 3:  # 24-bit: sign-extend three bytes into int32
        b = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        return (np.where(v >= 1 << 23, v - (1 << 24), v)).astype(np.float32) / float(1 << 23)
    if width == 4:
        return np.frombuffer(raw, "<i4").astype(np.float32) / float(1 << 31)
    raise ValueError(f"unsupported WAV sample width {width} bytes")


def read_wav(path: str | Path) -> Audio:
    """Read a WAV file as mono Audio (see `parse_wav`)."""
    return parse_wav(Path(path).read_bytes(), str(path))


def parse_wav(data: bytes, path: str = "<bytes>") -> Audio:
    """Decode WAV bytes (PCM 8/16/24/32-bit or IEEE float, any rate, any channels) as mono Audio.

    Parses the RIFF chunks directly because the stdlib `wave` module rejects float WAVs and
    ffmpeg is not available. Streamed WAVs whose data size field is 0 or 0xFFFFFFFF (espeak-ng
    --stdout writes these) are read to the end of the file.
    """
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError(f"{path}: not a RIFF/WAVE file")
    pos, fmt = 12, None
    while pos + 8 <= len(data):
        cid, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        body = pos + 8
        if cid == b"fmt ":
            if body + 16 > len(data):
                raise ValueError(f"{path}: truncated WAV: the file ends inside its fmt chunk")
            tag, channels, rate, _, _, bits = struct.unpack("<HHIIHH", data[body : body + 16])
            if channels == 0 or rate == 0 or bits == 0:
                raise ValueError(f"{path}: broken WAV fmt chunk ({channels} channels, {rate} Hz, {bits} bits)")
            if tag == _EXTENSIBLE:  # real format tag is the first 2 bytes of the sub-format GUID
                tag = struct.unpack("<H", data[body + 24 : body + 26])[0]
            if tag not in (_PCM, _FLOAT):
                raise ValueError(f"{path}: unsupported WAV encoding (format tag {tag})")
            fmt = (tag, channels, rate, bits // 8)
        elif cid == b"data":
            if fmt is None:
                raise ValueError(f"{path}: data chunk before fmt chunk")
            end = len(data) if size in (0, 0xFFFFFFFF) else min(len(data), body + size)
            tag, channels, rate, width = fmt
            frame = width * channels
            raw = data[body : body + ((end - body) // frame) * frame]
            samples = _decode_pcm(raw, width, tag).reshape(-1, channels)
            warnings: tuple[str, ...] = ()
            if size not in (0, 0xFFFFFFFF) and body + size > len(data):  # cut off: a partial download, a kill
                warnings = (f"{path}: truncated WAV: its data chunk declares {size / (frame * rate):.2f} s, "
                            f"the file holds {len(raw) / (frame * rate):.2f} s; only that part is used",)
            return Audio(samples, rate, warnings)
        pos = body + size + (size & 1)  # chunks are word-aligned
    raise ValueError(f"{path}: no audio data chunk")


def write_wav(path: str | Path, audio: Audio) -> Path:
    """Write `audio` as 16-bit PCM mono WAV (clipped to [-1, 1]); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pcm = (np.clip(audio.samples, -1.0, 1.0) * 32767.0).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(int(audio.rate))
        w.writeframes(pcm.tobytes())
    return path
