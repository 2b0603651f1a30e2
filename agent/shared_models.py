"""Models a scenario run loads once per worker process and shares across its episodes.

:class:`SharedModels` loads lazily what the :class:`agent.runner.RunConfig` asks for: the SigLIP
consistency checker, the conformal calibration of the prediction set and (for spoken people)
the whisper transcriber. "auto" means the project's trained files when they exist, else none.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional

if TYPE_CHECKING:
    from agent.runner import RunConfig


@dataclass
class SharedModels:
    """Models loaded once per run (per worker process) and shared by its episodes, lazily."""

    config: "RunConfig"
    _consistency: Any = None
    _transcriber: Any = None
    _calibration: Any = None
    _policy: Any = None
    _policy_client: Any = None

    def calibration(self) -> Optional[Any]:
        """The conformal calibration the config asks for, or None ("off", or "auto" without one)."""
        if self.config.calibration == "off":
            return None
        if self._calibration is None:
            from perception.conformal import DEFAULT_CALIBRATION, ConformalCalibration

            auto = self.config.calibration == "auto"
            path = Path(DEFAULT_CALIBRATION) if auto else Path(self.config.calibration)
            if auto and not path.is_file():
                return None
            self._calibration = ConformalCalibration.load(path)
        return self._calibration

    def policy(self) -> Any:
        """The learned policy checkpoint at ``config.policy_checkpoint`` (policy.model.checkpoint.LoadedPolicy)."""
        if self._policy is None:
            from policy.model.checkpoint import load_checkpoint

            self._policy = load_checkpoint(self.config.policy_checkpoint)
        return self._policy

    def policy_client(self) -> Any:
        """One websocket to ``config.policy_server`` (serving.client.PolicyClient) for every
        episode of the run/worker; each episode's executor is its own session on it."""
        if self._policy_client is None:
            from serving.client import PolicyClient

            self._policy_client = PolicyClient(self.config.policy_server, api_key=self.config.policy_api_key)
        return self._policy_client

    def consistency(self) -> Optional[Any]:
        """The SigLIP checker the config asks for, or None ("off", or "auto" without one)."""
        if self.config.consistency == "off":
            return None
        if self._consistency is None:
            from perception.consistency import ConsistencyChecker
            from perception.siglip import DEFAULT_CHECKPOINT

            path = Path(DEFAULT_CHECKPOINT) if self.config.consistency == "auto" else Path(self.config.consistency)
            if self.config.consistency == "auto" and not path.is_dir():
                return None
            self._consistency = ConsistencyChecker.from_pretrained(path)
        return self._consistency

    def hearing(self, channel: str, seed: int, save_dir: Path, voice: str = "piper",
                snr_db: Optional[float] = None) -> Callable[[str], str]:
        """What the robot hears of the person's words on ``channel`` (speech: ``voice`` TTS with
        white noise at ``snr_db``, then whisper)."""
        if channel == "text":
            return lambda text: text
        from perception.speech.roundtrip import SpokenRoundTrip
        from perception.speech.stt import WhisperTranscriber

        if self._transcriber is None:
            self._transcriber = WhisperTranscriber()
        return SpokenRoundTrip(self._transcriber, voice=voice, snr_db=snr_db, seed=seed, save_dir=save_dir)  # callable; saves robot lines too
