"""`python main.py session [--gui] [--scene FILE | --seed N]`: talk to the robot in a terminal.

Type an instruction; the robot prints what it sees, its decision with its scores, its question
(answer it on the next line), its reasoning while it moves, and the outcome. ``quit`` or
Ctrl-D ends. The person's side is a :class:`Channel` (``ask(text) -> reply``, ``say(text)``),
chosen by name from ``CHANNELS``: text now, a voice channel (whisper in, TTS out) plugs in the
same way. The arm is a PyBullet Panda in a TabletopEnv; motions come from the learned VLA
policy (``--policy vla``, ``--checkpoint``, default ``checkpoints/vla``), steered with the
agent's grounding, or from the privileged scripted expert (``--policy expert``, sim only).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Callable, Optional, Protocol
from uuid import uuid4

from agent.runner import EXECUTORS, RunConfig
from agent.shared_models import SharedModels


class Channel(Protocol):
    """How the person and the robot talk: one line in, one line out."""

    def ask(self, prompt: str) -> Optional[str]:
        """Show/say ``prompt`` and return the person's reply (None when they have left)."""

    def say(self, text: str) -> None:
        """Tell the person something (robot speech or a status line)."""


class TextChannel:
    """Terminal input/output. With a ``listener`` (a terminal: see :meth:`for_stdin`) lines are
    read on a background thread, so "stop" typed while the arm moves reaches it at once
    (``interjections``); without one, plain ``input()`` (piped input, tests)."""

    def __init__(self, listener: Optional[Any] = None) -> None:
        self.listener = listener
        self.interjections = listener  # None: nobody can interject (session falls back)

    @classmethod
    def for_stdin(cls) -> "TextChannel":
        import sys

        from agent.stdin_listener import LineListener

        return cls(LineListener(sys.stdin) if sys.stdin.isatty() else None)

    def ask(self, prompt: str) -> Optional[str]:
        shown = f"{prompt}\nyou> " if prompt else "you> "
        if self.listener is not None:
            print(shown, end="", flush=True)
            line = self.listener.get()
            return None if line is None else line.strip()
        try:
            return input(shown).strip()
        except EOFError:
            return None

    def say(self, text: str) -> None:
        print(text, flush=True)


def voice_channel(args: argparse.Namespace) -> Channel:
    """Whisper in, TTS out (perception.speech); the text channel, with the reason, when the
    microphone or the speech model is missing. Its `interjections` catch "stop" mid-motion."""
    from perception.speech.audio_io import AudioUnavailable
    from perception.speech.models import ModelUnavailable
    from perception.speech.voice_session import VoiceOptions, open_voice_channel

    options = VoiceOptions(audio_in=tuple(args.audio_in or ()), audio_out=args.audio_out, tts=args.tts,
                           whisper_model=args.whisper_model)
    try:
        return open_voice_channel(options)
    except (AudioUnavailable, ModelUnavailable) as exc:
        print(f"[voice] {exc}; falling back to the text channel", flush=True)
        return TextChannel.for_stdin()


#: --channel name -> factory(args) building the person's side of the conversation.
CHANNELS: dict[str, Callable[[argparse.Namespace], Channel]] = {"text": lambda args: TextChannel.for_stdin(),
                                                                "voice": voice_channel}

#: Transcript events echoed to the person, with the label they are printed under.
SHOWN_EVENTS = {"perception": "sees", "decision": "decides", "reasoning": "thinks", "interjection": "heard",
                "own_check": "checks"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--scene", type=Path, help="YAML with a scene (or a scenario with a 'scene:')")
    where.add_argument("--seed", type=int, default=0, help="sample a random scene from this seed")
    parser.add_argument("--objects", type=int, default=4, help="objects in a sampled scene")
    parser.add_argument("--gui", action="store_true", help="open the PyBullet window (needs a display)")
    parser.add_argument("--channel", default="text", choices=sorted(CHANNELS), help="how you talk to the robot")
    parser.add_argument("--voice", action="store_true", help="talk by voice (same as --channel voice)")
    parser.add_argument("--audio-in", type=Path, nargs="+", help="voice: WAV files said in order instead of the mic")
    parser.add_argument("--audio-out", type=Path, help="voice: save the robot's speech as WAVs in this folder")
    parser.add_argument("--tts", default="piper", help="voice: text-to-speech backend (piper | espeak)")
    parser.add_argument("--whisper-model", default="tiny.en", help="voice: whisper name, .pt or CTranslate2 folder")
    parser.add_argument("--image-size", type=int, default=96, help="camera pixels (square)")
    parser.add_argument("--policy", default=RunConfig.policy, choices=sorted(EXECUTORS),
                        help="motion source: vla (the learned policy: camera + proprio + words) or expert "
                             "(privileged scripted, sim only)")
    parser.add_argument("--checkpoint", type=Path, default=Path(RunConfig.policy_checkpoint),
                        help="policy checkpoint folder for --policy vla")
    parser.add_argument("--run-dir", type=Path, default=Path("runs") / "sessions",
                        help="where the transcript (JSONL) and checkpoints (SQLite) go")
    parser.add_argument("--session-id", help="resume this session id (default: a new one)")
    parser.add_argument("--siglip", type=Path, help="SigLIP checkpoint folder for the language-vision check "
                        "(default: checkpoints/siglip; skipped with a note when absent)")
    parser.add_argument("--no-consistency", action="store_true", help="skip the SigLIP language-vision check")
    parser.add_argument("--calibration", type=Path, help="conformal calibration JSON (default: "
                        "checkpoints/conformal.json; the grounder's own sets when absent)")
    parser.add_argument("--no-calibration", action="store_true", help="use the grounder's own prediction sets")


def load_scene(args: argparse.Namespace) -> Any:
    """The scene from --scene (plain scene or scenario YAML) or sampled from --seed."""
    import numpy as np

    from sim.scene import SceneSpec, sample_scene

    if args.scene is None:
        return sample_scene(np.random.default_rng(args.seed), n_objects=args.objects)
    import yaml

    data = yaml.safe_load(args.scene.read_text())
    if isinstance(data, list):
        data = data[0]
    return SceneSpec.model_validate(data.get("scene", data) if isinstance(data, dict) else data)


def sim_verifier(env: Any) -> Callable[[Any], bool]:
    """Success check of the agent's own target against the simulator (privileged, sim only)."""
    from sim.success import check_success
    from sim.tasks import TaskSpec

    from agent.executors import true_object_id

    def verify(target: Any) -> bool:
        truth = {k: p.position for k, p in env.object_poses().items()}
        pick = true_object_id(target.pick, truth)
        place = true_object_id(target.place, truth) if target.place is not None else None
        if pick is None:
            return False
        task = TaskSpec(pick=pick, place=place, relation=target.relation or "in")
        return check_success(task, env.scene, env.world_state()).success

    return verify


def load_consistency(args: argparse.Namespace, channel: Channel) -> Any:
    """The SigLIP consistency checker, or None (with a note) when off or not trained yet."""
    if args.no_consistency:
        return None
    from perception.siglip import DEFAULT_CHECKPOINT

    folder = args.siglip or DEFAULT_CHECKPOINT
    if not Path(folder).is_dir():
        channel.say(f"(no SigLIP checkpoint at {folder}; run `python main.py train-siglip` to enable the "
                    "language-vision check)")
        return None
    from perception.consistency import ConsistencyChecker

    return ConsistencyChecker.from_pretrained(folder)


def load_calibration(args: argparse.Namespace, channel: Channel) -> Any:
    """The conformal calibration of the prediction set, or None (with a note) when off or absent."""
    if getattr(args, "no_calibration", False):
        return None
    from perception.conformal import DEFAULT_CALIBRATION, ConformalCalibration

    path = getattr(args, "calibration", None) or DEFAULT_CALIBRATION
    if not Path(path).is_file():
        channel.say(f"(no conformal calibration at {path}; run `python main.py calibrate` for calibrated questions)")
        return None
    return ConformalCalibration.load(path)


def make_executor(args: argparse.Namespace, env: Any) -> Any:
    """The executor ``--policy`` names; a bad ``--checkpoint`` fails here with the loader's message."""
    config = RunConfig(policy=args.policy, policy_checkpoint=str(args.checkpoint), image_size=args.image_size)
    return EXECUTORS[args.policy](env, SharedModels(config))


def run(args: argparse.Namespace) -> int:
    from agent.context import AgentContext
    from agent.driver import AgentSession, Question
    from agent.transcript import TranscriptEvent, TranscriptWriter
    from perception.grounding import Grounder
    from perception.proposals import perceive
    from sim.tabletop_env import TabletopEnv

    from agent.context import NoInterjections

    channel = CHANNELS["voice" if args.voice else args.channel](args)
    scene = load_scene(args)
    env = TabletopEnv(image_size=args.image_size, gui=args.gui, detail_size=RunConfig().perception_size)
    env.reset(seed=args.seed, options={"scene": scene})
    session_id = args.session_id or f"session-{uuid4().hex[:8]}"

    def show(event: TranscriptEvent) -> None:
        if event.kind in SHOWN_EVENTS:
            channel.say(f"  [robot {SHOWN_EVENTS[event.kind]}] {event.text}")

    transcript = TranscriptWriter(session_id, args.run_dir / f"{session_id}.jsonl", on_event=show)
    context = AgentContext(
        arm=env.arm,
        perceive=lambda obs: perceive(obs, viewpoint=scene.viewpoint, labels=env.arm.segmentation_labels),
        grounder=Grounder(),
        executor=make_executor(args, env),
        transcript=transcript,
        verify=sim_verifier(env),
        consistency=load_consistency(args, channel),
        calibration=load_calibration(args, channel),
        interjections=getattr(channel, "interjections", None) or NoInterjections(),
        say=lambda text: channel.say(f"robot: {text}"),
    )
    channel.say("On the table: " + ", ".join(o.describe() for o in scene.objects) + ". Type 'quit' to end.")
    try:
        with AgentSession(context, session_id, args.run_dir / "sessions.sqlite") as session:
            turn: Any = session.pending()
            while True:
                if isinstance(turn, Question):
                    shown = f"\n  [picture: {turn.image}]" if turn.image else ""
                    reply = channel.ask(f"robot asks: {turn.text}{shown}")
                    if reply is None or reply.lower().strip(" .!?") in ("quit", "exit"):
                        break
                    if not reply:  # silence or nothing intelligible: ask again
                        continue
                    turn = session.resume(reply)
                    continue
                said = channel.ask("")
                if said is None or said.lower().strip(" .!?") in ("quit", "exit"):
                    break
                if said:
                    turn = session.start(said)
    finally:
        env.close()
        if hasattr(channel, "close"):
            channel.close()
    channel.say(f"transcript: {transcript.path}")
    return 0

