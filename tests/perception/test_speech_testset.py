"""The speech test set's acoustic conditions and push-to-talk (no whisper involved)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from perception.speech.audio import Audio
from perception.speech.noise import mix_at_snr, reverberate, room_noise, speech_power, white_noise
from perception.speech.push_to_talk import PushToTalkSource, ScriptedKeyHold
from perception.speech.testset import CONDITIONS, TestPhrase, TestSetSpec, TestVoice, build_testset


def _tone(seconds: float = 1.0, rate: int = 16_000) -> Audio:
    t = np.arange(int(seconds * rate)) / rate
    return Audio((0.2 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), rate)


@pytest.mark.parametrize("snr_db", [30.0, 20.0, 10.0])
def test_noise_is_mixed_at_the_asked_snr(snr_db):
    clean = _tone()
    noisy = mix_at_snr(clean, room_noise(len(clean.samples), clean.rate, np.random.default_rng(0)), snr_db)
    noise = noisy.samples.astype(np.float64) - clean.samples
    measured = 10 * np.log10(speech_power(clean.samples) / np.mean(noise**2))
    assert measured == pytest.approx(snr_db, abs=0.1)


def test_reverb_keeps_length_and_peak_and_spreads_energy_in_time():
    click = np.zeros(16_000, np.float32)
    click[100] = 0.5
    wet = reverberate(Audio(click, 16_000), 0.4, np.random.default_rng(0))
    assert len(wet.samples) == 16_000 and np.abs(wet.samples).max() == pytest.approx(0.5, rel=1e-4)
    assert np.abs(wet.samples[100 + 1600:]).max() > 1e-4  # still ringing 0.1 s later


def test_white_noise_is_seeded():
    assert np.array_equal(white_noise(100, np.random.default_rng(3)), white_noise(100, np.random.default_rng(3)))


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng")
def test_testset_is_reproducible_and_cached(tmp_path):
    spec = TestSetSpec([TestPhrase("pick up the red cube", "command", "cmd-0")],
                       voices=(TestVoice("espeak en-gb", "espeak", "en-gb"),),
                       conditions=(CONDITIONS[0], CONDITIONS[3]), noise_only=2)
    first = build_testset(spec, tmp_path / "a")
    again = build_testset(spec, tmp_path / "b")
    assert [c.condition for c in first] == ["clean", "babble 20 dB", "noise only: silence", "noise only: white"]
    for a, b in zip(first, again):
        assert open(a.path, "rb").read() == open(b.path, "rb").read()
    assert build_testset(spec, tmp_path / "a") == first  # read back from the manifest


def test_push_to_talk_keeps_exactly_what_is_said_while_the_key_is_held():
    clock = {"t": 0.0}
    block = 480  # 30 ms at 16 kHz

    def read_block(timeout_s: float):
        clock["t"] += 0.03  # the microphone delivers one 30 ms block per read
        return np.full(block, clock["t"], np.float32)

    key = ScriptedKeyHold([(0.3, 0.9)], clock=lambda: clock["t"])
    source = PushToTalkSource(read_block, key, 16_000, tail_s=0.0, poll_s=0.0)
    clip = source.next_utterance(timeout_s=None)
    assert clip is not None
    assert 0.5 <= clip.duration_s <= 0.7  # 0.6 s held; nothing from before the press
    assert clip.samples.min() >= 0.3


def test_push_to_talk_times_out_when_the_key_is_never_pressed():
    source = PushToTalkSource(lambda t: None, ScriptedKeyHold([]), 16_000, poll_s=0.0)
    assert source.next_utterance(timeout_s=0.05) is None
