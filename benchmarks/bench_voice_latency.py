"""Voice latency benchmark: end of speech -> first arm motion, through the real pipeline.

    python -m benchmarks.bench_voice_latency [--runs 10] [--snr 30] [--threads 1]
                                             [--variants baseline scene]

Per run, one unambiguous command (COMMANDS, cycled) is spoken by piper and streamed in 30 ms
blocks, paced by the wall clock like a microphone (block i is delivered when its last sample
would have been captured), into the voice session's own path: `SpeechChannel.listen()` ->
`AudioSource.next_utterance()` (the streaming `UtteranceDetector` end-pointer, 0.6 s hangover)
-> `WhisperTranscriber` (packaged tiny.en, domain prompt). The text then goes to
`AgentSession.start()` on a PyBullet Panda scene wired like agent/runner.py (perception,
Grounder, conformal calibration and SigLIP consistency from SharedModels, and the executor
``--policy`` names: the learned VLA policy by default, as the product runs, or the privileged
scripted expert; with the policy the first motion waits for its first full reasoning). The
run stops at the first `send_action` with non-zero motion (the rest of the motion is not timed).

Time stamps (wall clock, seconds from the stream's start):
- eos: end of speech = the last voiced 10 ms frame (RMS > -50 dBFS) of the clean speech, in
  audio time, mapped to wall clock via the stream's start;
- cut: the end-pointer returns the utterance;  - heard_at: whisper's transcript is ready;
- decided: the agent's "decision" transcript event;  - moved: first non-zero `send_action`.
Variants, run in turn on the same machine so their figures compare: `baseline` (whisper's text
as it is, `--baseline-wait` s end-of-speech wait) and `scene` (the voice channel's
`CommandReader` with the table's objects, the detector's default wait). One warm-up run is
excluded; model loads are timed separately. Wall-clock figures depend on
the load on the machine (the load average is printed).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import numpy as np

#: The table every run uses: each command below names exactly one object.
SCENE_OBJECTS = (
    {"id": "ball", "shape": "ball", "color": "blue", "size": "medium", "position": (0.50, 0.10)},
    {"id": "cube", "shape": "cube", "color": "yellow", "size": "medium", "position": (0.58, -0.12)},
    {"id": "can", "shape": "cylinder", "color": "red", "size": "small", "position": (0.42, -0.05)},
    {"id": "bowl", "shape": "bowl", "color": "green", "size": "large", "position": (0.40, 0.18)},
)
#: Unambiguous spoken commands (the first is the headline one).
COMMANDS: tuple[str, ...] = (
    "pick up the blue ball",
    "pick up the yellow cube",
    "grab the red cylinder",
    "put the blue ball in the green bowl",
    "put the yellow cube in the bowl",
    "pick up the red cylinder",
)
#: Stage name -> (from stamp, to stamp).
STAGES: dict[str, tuple[str, str]] = {
    "eos->cut (VAD hangover)": ("eos", "cut"),
    "cut->text (whisper)": ("cut", "heard_at"),
    "text->decided (perceive+ground+check)": ("heard_at", "decided"),
    "decided->moved (plan+first step)": ("decided", "moved"),
    "TOTAL eos->moved": ("eos", "moved"),
}
#: Level (dBFS, 10 ms RMS) above which clean speech counts as voiced: the VAD's absolute floor.
VOICED_DB = -50.0


class FirstMotion(Exception):
    """Raised by MotionWatch at the first moving action: the timed part of the run is over."""


class MotionWatch:
    """The arm as the agent sees it, stamping the first `send_action` that moves (xyz/rpy != 0)."""

    def __init__(self, arm: Any) -> None:
        self._arm = arm
        self.moved_at: Optional[float] = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._arm, name)

    def send_action(self, action: np.ndarray) -> np.ndarray:
        sent = self._arm.send_action(action)
        if self.moved_at is None and np.any(np.abs(np.asarray(sent)[:6]) > 1e-9):
            self.moved_at = time.perf_counter()
            raise FirstMotion()
        return sent


def last_voiced_s(speech: Any) -> float:
    """Time (s) of the end of the last voiced 10 ms frame of a clean clip."""
    from perception.speech.vad import frame_levels_db

    frame = int(0.01 * speech.rate)
    voiced = np.nonzero(frame_levels_db(speech.samples, frame) > VOICED_DB)[0]
    return 0.0 if len(voiced) == 0 else (voiced[-1] + 1) * frame / speech.rate


def paced_source(clip: Any, stamps: dict[str, float], vad: Any = None) -> Any:
    """An AudioSource that streams `clip` in real time through the VAD end-pointer (a fake mic).

    Sets stamps["start"] (wall clock of sample 0) and stamps["cut"] (utterance returned)."""
    from perception.speech.audio_io import AudioSource, EndOfInput
    from perception.speech.vad import UtteranceDetector, VadConfig

    vad = vad or VadConfig()

    class PacedSource(AudioSource):
        def __init__(self) -> None:
            self.used = False

        def next_utterance(self, timeout_s: float | None = None) -> Any:
            if self.used:
                raise EndOfInput("one utterance per run")
            self.used = True
            detector = UtteranceDetector(clip.rate, vad)
            block = int(round(clip.rate * vad.frame_s))
            stamps["start"] = t0 = time.perf_counter()
            for i in range(0, len(clip.samples), block):
                due = t0 + (i + block) / clip.rate  # its last sample has been "captured"
                wait = due - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                cut = detector.feed(clip.samples[i : i + block])
                if cut is not None:
                    stamps["cut"] = time.perf_counter()
                    return cut
            return None

    return PacedSource()


@dataclass
class Rig:
    """Loaded once: models, the env and its scene (load times in `loads`, seconds)."""

    transcriber: Any
    synth: Any
    models: Any
    env: Any
    scene: Any
    run_dir: Path
    policy: str = "vla"  # agent.runner.EXECUTORS name
    loads: dict[str, float] = field(default_factory=dict)


def build_rig(run_dir: Path, policy: str = "vla") -> Rig:
    from agent.runner import RunConfig
    from sim.quiet_stdout import quiet_c_stdout
    from agent.shared_models import SharedModels
    from perception.speech.stt import WhisperTranscriber
    from perception.speech.synthesize import VoiceSynthesizer
    from sim.scene import ObjectSpec, SceneSpec
    from sim.tabletop_env import TabletopEnv

    loads: dict[str, float] = {}

    def timed(name: str, fn: Any) -> Any:
        t = time.perf_counter()
        out = fn()
        loads[name] = time.perf_counter() - t
        return out

    transcriber = WhisperTranscriber()
    timed("whisper tiny.en", lambda: transcriber.model)
    synth = VoiceSynthesizer()
    timed("piper voice + first synthesis", lambda: synth.backend("piper").synthesize("hello"))
    models = SharedModels(RunConfig(policy=policy))
    if policy == "vla":
        timed("VLA policy checkpoint", models.policy)
    if timed("SigLIP consistency", models.consistency) is None:
        raise SystemExit("no SigLIP checkpoint (checkpoints/siglip): the benchmark needs the real check")
    if timed("conformal calibration", models.calibration) is None:
        raise SystemExit("no conformal calibration (checkpoints/conformal.json)")
    scene = SceneSpec(objects=[ObjectSpec(**o) for o in SCENE_OBJECTS])

    def make_env() -> Any:
        with quiet_c_stdout():
            return TabletopEnv(image_size=RunConfig().image_size, max_episode_steps=RunConfig().max_control_steps)

    env = timed("PyBullet env", make_env)
    return Rig(transcriber, synth, models, env, scene, run_dir, policy, loads)


def run_once(rig: Rig, text: str, clip: Any, speech_end_s: float, index: int, variant: str = "scene",
             baseline_wait_s: float = 0.6) -> dict[str, Any]:
    """One command from audio to first motion; returns wall stamps relative to stream start."""
    from agent.context import AgentContext
    from agent.driver import AgentSession
    from agent.runner import EXECUTORS
    from agent.transcript import TranscriptWriter
    from perception.grounding import Grounder
    from perception.proposals import perceive
    from perception.speech.channel import ChannelConfig, SpeechChannel

    env, scene = rig.env, rig.scene
    env.reset(seed=index, options={"scene": scene})  # not timed: the table is ready before anyone speaks
    arm = MotionWatch(env.arm)
    stamps: dict[str, float] = {}

    def on_event(event: Any) -> None:
        if event.kind == "decision" and "decided" not in stamps:
            stamps["decided"] = time.perf_counter()
            stamps["decision"] = event.text  # type: ignore[assignment]

    sid = f"voice-latency-{index}"
    labels = env.arm.segmentation_labels
    context = AgentContext(
        arm=arm, perceive=lambda obs: perceive(obs, viewpoint=scene.viewpoint, labels=labels),
        grounder=Grounder(), executor=EXECUTORS[rig.policy](env, rig.models),
        transcript=TranscriptWriter(sid, rig.run_dir / f"{sid}.jsonl", on_event=on_event),
        consistency=rig.models.consistency(), calibration=rig.models.calibration(),
    )
    from dataclasses import replace

    from perception.speech.understanding import CommandReader
    from perception.speech.vad import VadConfig

    vad = replace(VadConfig(), end_silence_s=baseline_wait_s) if variant == "baseline" else VadConfig()
    channel = SpeechChannel(paced_source(clip, stamps, vad), rig.transcriber, tts=None,
                            config=ChannelConfig(confirm=False), printer=lambda line: None,
                            reader=CommandReader() if variant == "scene" else None)
    channel.set_scene(scene.objects)
    heard = channel.listen()
    stamps["heard_at"] = time.perf_counter()
    outcome = "moved"
    with AgentSession(context, sid, rig.run_dir / f"{sid}.sqlite") as session:
        try:
            turn = session.start(heard)
            outcome = f"no motion: {type(turn).__name__} {getattr(turn, 'text', getattr(turn, 'message', ''))}"
        except FirstMotion:
            stamps["moved"] = arm.moved_at  # type: ignore[assignment]
    t0 = stamps["start"]
    rel = {k: v - t0 for k, v in stamps.items() if isinstance(v, float)}
    rel["eos"] = speech_end_s
    return {"variant": variant, "text": text, "heard": heard, "outcome": outcome, "doubtful": channel.needs_confirmation(),
            "decision": stamps.get("decision", ""), **rel}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="timed runs (commands cycled)")
    parser.add_argument("--snr", type=float, default=30.0, help="white-noise SNR of the 'room', dB")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--lead-s", type=float, default=0.5, help="quiet before speech (VAD calibrates on 0.3 s)")
    parser.add_argument("--tail-s", type=float, default=1.5, help="quiet streamed after speech")
    parser.add_argument("--policy", choices=("vla", "expert"), default="vla",
                        help="what moves the arm: the learned policy (default, as the product runs) or the "
                             "privileged scripted expert")
    parser.add_argument("--variants", nargs="+", default=["baseline", "scene"], choices=("baseline", "scene"))
    parser.add_argument("--baseline-wait", type=float, default=0.6, help="baseline's end-of-speech wait, s")
    args = parser.parse_args(argv)

    import torch

    from perception.speech.audio import WHISPER_RATE, Audio
    from perception.speech.synthesize import add_noise

    torch.set_num_threads(args.threads)
    run_dir = Path(tempfile.mkdtemp(prefix="voice-latency-"))
    rig = build_rig(run_dir, args.policy)
    clips = {}
    for i, text in enumerate(COMMANDS):  # synthesis is the person's job: not timed
        speech = rig.synth.backend("piper").synthesize(text).resampled(WHISPER_RATE)
        padded = Audio.concat([Audio.silence(args.lead_s), speech, Audio.silence(args.tail_s)])
        clips[text] = (add_noise(padded, args.snr, np.random.default_rng(i)), args.lead_s + last_voiced_s(speech))

    t = time.perf_counter()
    run_once(rig, COMMANDS[0], *clips[COMMANDS[0]], index=0)  # warm-up: first-call costs
    rig.loads["warm-up run (excluded)"] = time.perf_counter() - t
    rows = []
    try:
        for n in range(args.runs):
            text = COMMANDS[n % len(COMMANDS)]
            for variant in args.variants:
                rows.append(run_once(rig, text, *clips[text], index=n + 1, variant=variant,
                                     baseline_wait_s=args.baseline_wait))
    finally:
        rig.env.close()

    print(f"\nVoice latency: end of speech -> first arm motion ({args.policy}), {args.runs} runs, torch threads "
          f"{args.threads}, {os.cpu_count()} CPUs, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("loads (s): " + ", ".join(f"{k} {v:.2f}" for k, v in rig.loads.items()))
    for r in rows:
        print(f"  {r['variant']:<8} {r['text']!r:40} heard {r['heard']!r:40} {r['outcome']}"
              f"{' [doubtful]' if r['doubtful'] else ''}  total {r.get('moved', float('nan')) - r['eos']:.2f} s")
    moved = [r for r in rows if "moved" in r]
    for variant in args.variants:
        mine = [r for r in moved if r["variant"] == variant]
        print(f"\n{variant:<40} {'median s':>9} {'p90 s':>7}   (over {len(mine)} runs that moved)")
        for name, (a, b) in STAGES.items():
            d = np.array([r[b] - r[a] for r in mine]) if mine else np.array([np.nan])
            print(f"{name:<40} {np.median(d):9.3f} {np.percentile(d, 90):7.3f}")
    return 0 if len(moved) == len(rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
