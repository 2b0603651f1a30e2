"""Speech plumbing without whisper: WAV files, resampling, VAD, noise, WER, device fallback."""

from __future__ import annotations

import struct
import sys
import time
import types

import numpy as np
import pytest

from perception.speech.audio import Audio, parse_wav, read_wav, resample, write_wav
from perception.speech.audio_io import AudioUnavailable, open_microphone, open_speaker
from perception.speech.synthesize import add_noise
from perception.speech.vad import UtteranceDetector, VadConfig, has_speech, speech_segments
from perception.speech.wer import normalize_text, word_error_rate


def tone(seconds: float, rate: int = 16_000, hz: float = 440.0, amp: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amp * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def burst(rate: int = 16_000, noise: float = 0.0) -> Audio:
    """0.5 s quiet, 0.6 s of tone, 1.0 s quiet (+ optional white noise of std `noise`)."""
    x = np.concatenate([np.zeros(rate // 2), tone(0.6, rate), np.zeros(rate)]).astype(np.float32)
    x += np.random.default_rng(0).normal(0, noise, len(x)).astype(np.float32) if noise else 0
    return Audio(x, rate)


def test_resample_keeps_pitch_and_duration():
    y = resample(tone(1.0, 22_050, hz=440.0), 22_050, 16_000)
    assert len(y) == 16_000
    peak_hz = np.argmax(np.abs(np.fft.rfft(y))) * 16_000 / len(y)
    assert abs(peak_hz - 440.0) < 2.0


def test_wav_round_trip_any_format(tmp_path):
    clip = Audio(tone(0.5, 44_100), 44_100)
    back = read_wav(write_wav(tmp_path / "a.wav", clip))
    assert back.rate == 44_100 and np.allclose(back.samples, clip.samples, atol=1e-3)

    # stereo float32 WAV (the stdlib wave module cannot read it)
    stereo = np.stack([tone(0.2, 8_000), tone(0.2, 8_000)], axis=1).astype("<f4")
    fmt = struct.pack("<HHIIHH", 3, 2, 8_000, 8_000 * 8, 8, 32)
    body = b"fmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", stereo.nbytes) + stereo.tobytes()
    audio = parse_wav(b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WAVE" + body)
    assert audio.rate == 8_000 and audio.samples.shape == (1_600,)
    assert np.allclose(audio.samples, stereo[:, 0], atol=1e-6)


def test_not_a_wav_is_a_clear_error(tmp_path):
    (tmp_path / "x.wav").write_bytes(b"hello")
    with pytest.raises(ValueError, match="not a RIFF"):
        read_wav(tmp_path / "x.wav")


def test_vad_finds_speech_but_not_silence_or_steady_noise():
    assert not has_speech(Audio.silence(2.0))
    assert not has_speech(Audio(np.random.default_rng(1).normal(0, 0.05, 32_000).astype(np.float32), 16_000))
    segments = speech_segments(burst(noise=0.01))
    assert len(segments) == 1
    assert abs(segments[0].start_s - 0.5) < 0.06 and abs(segments[0].end_s - 1.1) < 0.06


def test_streaming_endpointer_cuts_one_utterance_after_the_hangover():
    clip = burst(noise=0.005)
    cfg = VadConfig()
    detector = UtteranceDetector(clip.rate, cfg)
    block = int(0.03 * clip.rate)
    cuts = [(i, c) for i in range(0, len(clip.samples), block)
            if (c := detector.feed(clip.samples[i : i + block])) is not None]
    assert len(cuts) == 1
    at, utterance = cuts[0]
    assert 0.6 <= utterance.duration_s <= 0.6 + cfg.pre_roll_s + cfg.end_silence_s + 0.1
    assert at / clip.rate == pytest.approx(1.1 + cfg.end_silence_s, abs=0.1)


def test_add_noise_hits_the_requested_snr():
    clip = Audio(tone(1.0), 16_000)
    noisy = add_noise(clip, 20.0, np.random.default_rng(0))
    noise = noisy.samples - clip.samples
    snr = 10 * np.log10(np.mean(clip.samples**2) / np.mean(noise**2))
    assert snr == pytest.approx(20.0, abs=0.3)
    assert add_noise(clip, None, np.random.default_rng(0)) is clip


def test_wer_ignores_case_and_punctuation():
    assert normalize_text("Pick up the red cube.") == "pick up the red cube"
    assert word_error_rate(["pick up the red cube"], ["Pick up the red cube."]) == 0.0
    assert word_error_rate(["pick up the red cube"], ["pick up the cube please"]) == pytest.approx(2 / 5)


def test_no_portaudio_gives_a_clear_message(monkeypatch):
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # import raises ImportError
    with pytest.raises(AudioUnavailable, match="libportaudio2"):
        open_microphone()


class _PortAudioError(Exception):
    pass


def _fake_sounddevice(devices, query_error=None):
    sd = types.SimpleNamespace(PortAudioError=_PortAudioError)

    def query_devices(kind=None):
        if query_error:
            raise query_error
        if kind is None:
            return devices
        raise ValueError(f"No {kind} device matching")

    sd.query_devices = query_devices
    return sd


@pytest.mark.parametrize("devices, error, message", [
    ([], None, "no sound card"),
    ([{"name": "x"}], None, "no usable input"),
    (None, _PortAudioError("Error querying device -1"), "no usable input"),
])
def test_missing_devices_raise_audio_unavailable(monkeypatch, devices, error, message):
    monkeypatch.setitem(sys.modules, "sounddevice", _fake_sounddevice(devices, error))
    with pytest.raises(AudioUnavailable, match=message):
        open_microphone()


def test_speaker_missing_is_audio_unavailable(monkeypatch):
    monkeypatch.setitem(sys.modules, "sounddevice", _fake_sounddevice([]))
    with pytest.raises(AudioUnavailable):
        open_speaker()


class _FakeInputStream:
    """Stands in for sounddevice.InputStream: plays a clip into the callback from a thread."""

    clip = np.zeros(0, np.float32)

    def __init__(self, samplerate, channels, dtype, blocksize, callback):
        self.blocksize, self.callback, self.active = blocksize, callback, False

    def start(self):
        import threading

        self.active = True

        def pump():  # ~6x faster than real time, in order, like PortAudio's thread
            for i in range(0, len(self.clip) - self.blocksize + 1, self.blocksize):
                time.sleep(0.005)
                self.callback(self.clip[i : i + self.blocksize].reshape(-1, 1), self.blocksize, None, None)

        threading.Thread(target=pump, daemon=True).start()

    def stop(self):
        self.active = False

    def close(self):
        pass


def test_microphone_cuts_an_utterance_and_times_out_on_silence(monkeypatch):
    from perception.speech.audio_io import MicrophoneSource

    sd = types.SimpleNamespace(InputStream=_FakeInputStream)
    monkeypatch.setitem(sys.modules, "sounddevice", sd)
    _FakeInputStream.clip = burst(noise=0.005).samples
    mic = MicrophoneSource(16_000)
    utterance = mic.next_utterance(timeout_s=5.0)
    assert utterance is not None and 0.6 <= utterance.duration_s <= 1.6
    assert mic.next_utterance(timeout_s=0.3) is None  # nothing more said: returns, never hangs
    mic.close()


def test_a_long_clip_is_cut_only_in_its_pauses_into_whisper_sized_pieces():
    from perception.speech.audio import WHISPER_RATE
    from perception.speech.stt import pause_cuts
    from perception.speech.vad import Segment

    # Twelve 2 s commands, 2 s apart (50 s), then one 35 s stretch without a pause.
    said = [Segment(4.0 * k + 1.0, 4.0 * k + 3.0) for k in range(12)] + [Segment(50.0, 85.0)]
    cuts = pause_cuts(said, 90 * WHISPER_RATE, pre_roll_s=0.3)
    assert len(cuts) == 3 and all(lo < hi for lo, hi in cuts)
    assert all(hi - lo <= 30 * WHISPER_RATE for lo, hi in cuts[:2])  # the rest may be one long stretch
    for seg in said:  # every word is inside exactly one piece, none is cut in two
        inside = [lo <= seg.start_s * WHISPER_RATE and seg.end_s * WHISPER_RATE <= hi for lo, hi in cuts]
        assert sum(inside) == 1
    assert all(b_lo >= a_hi - 1 for (_, a_hi), (b_lo, _) in zip(cuts, cuts[1:]))  # no overlap
