"""Speech round trip for simulated people: what they "say" goes through TTS, noise and whisper.

A scenario with `user.channel: speech` runs its simulated person through `SpokenRoundTrip`:
`hear(text)` synthesises the person's words (voice, SNR and seed from the scenario), lets
whisper transcribe them and returns what the robot heard; `robot_says(text)` saves the robot's
question as a WAV beside the transcript. Every clip is saved with a numbered name so a run can
be listened to afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from perception.speech.audio import Audio, write_wav
from perception.speech.audio_io import clip_filename
from perception.speech.stt import Transcript, WhisperTranscriber
from perception.speech.synthesize import VoiceSynthesizer


@dataclass(frozen=True)
class HeardUtterance:
    """One pass through the round trip: what was said, what was heard, the clip's file."""

    said: str
    heard: Transcript
    wav: Path | None = None


@dataclass
class SpokenRoundTrip:
    """TTS -> noise -> whisper for a simulated person; robot speech saved as WAV."""

    transcriber: WhisperTranscriber
    synthesizer: VoiceSynthesizer = field(default_factory=VoiceSynthesizer)
    # TTS registry name of the person's voice ("piper" | "espeak")
    voice: str = "piper"
    # white-noise SNR in dB of the person's speech (None: clean)
    snr_db: float | None = None
    # seeds the noise; each utterance uses seed + its index so clips differ but runs repeat
    seed: int = 0
    # folder for person_NNN_*.wav and robot_NNN_*.wav (None: keep nothing)
    save_dir: Path | None = None
    # robot's voice for the saved questions
    robot_voice: str = "piper"
    history: list[HeardUtterance] = field(default_factory=list)
    _robot_lines: int = 0

    def hear(self, text: str) -> str:
        """What the robot hears when the person says `text` ("" for silence or a blank line)."""
        if not text.strip():
            self.history.append(HeardUtterance(text, Transcript("")))
            return ""
        clip = self.synthesizer.synthesize(text, voice=self.voice, snr_db=self.snr_db,
                                           seed=self.seed + len(self.history))
        wav = self._save(clip, "person", text)
        heard = self.transcriber.transcribe(clip)
        self.history.append(HeardUtterance(text, heard, wav))
        return heard.text

    def __call__(self, text: str) -> str:
        """Same as `hear`: the round trip is a drop-in `text -> heard text` function."""
        return self.hear(text)

    def robot_says(self, text: str) -> Path | None:
        """Speak the robot's line with `robot_voice` and save it (None when not saving)."""
        if self.save_dir is None or not text.strip():
            return None
        self._robot_lines += 1
        clip = self.synthesizer.backend(self.robot_voice).synthesize(text)
        return write_wav(Path(self.save_dir) / clip_filename("robot_", self._robot_lines - 1, text), clip)

    def _save(self, clip: Audio, prefix: str, text: str) -> Path | None:
        if self.save_dir is None:
            return None
        return write_wav(Path(self.save_dir) / clip_filename(f"{prefix}_", len(self.history), text), clip)

    def word_errors(self) -> tuple[int, int]:
        """(word edits, words said) over everything heard so far, for a quick WER."""
        from perception.speech.wer import word_edits

        pairs = [(u.said, u.heard.text) for u in self.history if u.said.strip()]
        return sum(word_edits(s, h) for s, h in pairs), sum(len(s.split()) for s, _ in pairs)
