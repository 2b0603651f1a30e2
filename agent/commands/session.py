"""`python main.py session [--gui] [--scene FILE | --seed N]`: talk to the robot in a terminal.

Type an instruction; the robot prints what it sees, its decision with its scores, its question
(answer it on the next line), its reasoning while it moves, and the outcome. ``quit`` or
Ctrl-D ends. The person's side is a :class:`Channel` (``ask(text) -> reply``, ``say(text)``),
chosen by name from ``CHANNELS``: text now, a voice channel (whisper in, TTS out) plugs in the
same way. The arm is a PyBullet Panda in a TabletopEnv; motions come from the learned VLA
policy (``--policy vla``, ``--checkpoint``, default ``checkpoints/vla``), steered with the
agent's grounding, or from the privileged scripted expert (``--policy expert``, sim only).

Each session has its own folder, ``runs/sessions/<id>/`` (``agent.session_store``): the scene,
the objects' current poses (saved after each turn and every second of a motion), the policy and
settings, the transcript and the SQLite checkpoint. ``--session-id ID`` alone resumes it on the
same table with the same policy; a run the kill cut is carried on, or, when it was a motion,
the robot says the motion was cut and what it sees now (``agent.recovery``).
"""

from __future__ import annotations

import argparse
import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, Protocol
from uuid import uuid4

import numpy as np

from agent.runner import EXECUTORS, RunConfig
from agent.shared_models import SharedModels

#: Where sessions go without --run-dir: one folder per session (agent.session_store).
DEFAULT_RUN_DIR = Path("runs") / "sessions"


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
    from agent.interjection import correction_meaning
    from perception.speech.audio_io import AudioUnavailable
    from perception.speech.models import ModelUnavailable
    from perception.speech.voice_session import VoiceOptions, open_voice_channel

    options = VoiceOptions(audio_in=tuple(args.audio_in or ()), audio_out=args.audio_out, tts=args.tts,
                           correction_meaning=correction_meaning,
                           whisper_model=args.whisper_model, speech_adapter=args.speech_adapter,
                           push_to_talk=args.push_to_talk)
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
    parser.add_argument("--push-to-talk", action="store_true", help="voice: speak while holding the space bar "
                        "(instead of the voice detector's end-of-speech wait)")
    parser.add_argument("--tts", default="piper", help="voice: text-to-speech backend (piper | espeak)")
    parser.add_argument("--whisper-model", default="tiny.en", help="voice: whisper name, .pt or CTranslate2 folder")
    parser.add_argument("--speech-adapter", default="default",
                        help="voice: decoder LoRA folder (main.py train-speech), default (the committed one, "
                             "tiny.en only) or none")
    parser.add_argument("--image-size", type=int, default=96, help="camera pixels (square)")
    parser.add_argument("--policy", default=RunConfig.policy, choices=sorted(EXECUTORS),
                        help="motion source: vla (the learned policy: camera + proprio + words) or expert "
                             "(privileged scripted, sim only)")
    parser.add_argument("--checkpoint", type=Path, default=Path(RunConfig.policy_checkpoint),
                        help="policy checkpoint folder for --policy vla")
    parser.add_argument("--policy-server", metavar="WS_URL",
                        help="ask a `main.py serve` policy server (ws://host:port) instead of loading --checkpoint")
    parser.add_argument("--api-key", default=os.environ.get("ASKVLA_API_KEY"),
                        help="the policy server's API key (default $ASKVLA_API_KEY)")
    parser.add_argument("--run-dir", type=Path, help="sessions folder (default runs/sessions): each session "
                        "gets <run-dir>/<id>/ with session.json (scene, poses, settings), transcript, SQLite")
    parser.add_argument("--session-id", help="resume this session by id alone (found under --run-dir or runs/; "
                        "its table, policy and settings come back); an id never saved starts new")
    parser.add_argument("--siglip", type=Path, help="SigLIP checkpoint folder for the language-vision check "
                        "(default: checkpoints/siglip; skipped with a note when absent)")
    parser.add_argument("--no-consistency", action="store_true", help="skip the SigLIP language-vision check")
    parser.add_argument("--calibration", type=Path, help="conformal calibration JSON (default: "
                        "checkpoints/conformal.json; the grounder's own sets when absent)")
    parser.add_argument("--no-calibration", action="store_true", help="use the grounder's own prediction sets")


def load_scene(args: argparse.Namespace) -> Any:
    """The scene from --scene (plain scene or scenario YAML) or sampled from --seed; every bad
    file or count is one :class:`agent.scene_file.SceneFileError` line."""
    import numpy as np

    from agent.scene_file import SceneFileError, check_object_count, load_scene_file
    from sim.scene import sample_scene

    if args.scene is not None:
        return load_scene_file(args.scene)
    n = check_object_count(args.objects)
    try:
        return sample_scene(np.random.default_rng(args.seed), n_objects=n)
    except RuntimeError:
        raise SceneFileError(f"--objects {n}: that many objects do not fit on the table apart "
                             f"(seed {args.seed}); try fewer") from None


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


def session_settings(args: argparse.Namespace) -> Any:
    """The choices a new session saves with its scene (a resume uses them again)."""
    from agent.session_store import SessionSettings

    return SessionSettings(policy=args.policy, checkpoint=str(args.checkpoint), image_size=args.image_size,
                           seed=args.seed, siglip=str(args.siglip) if args.siglip else None,
                           consistency=not args.no_consistency,
                           calibration=str(args.calibration) if args.calibration else None,
                           use_calibration=not args.no_calibration)


def apply_settings(args: argparse.Namespace, settings: Any) -> None:
    """Put a saved session's choices back on ``args`` (resume: the same policy and checks)."""
    args.policy, args.checkpoint, args.image_size, args.seed = (settings.policy, Path(settings.checkpoint),
                                                                settings.image_size, settings.seed)
    args.siglip = Path(settings.siglip) if settings.siglip else None
    args.no_consistency = not settings.consistency
    args.calibration = Path(settings.calibration) if settings.calibration else None
    args.no_calibration = not settings.use_calibration


def open_record(args: argparse.Namespace, channel: Channel) -> tuple[Any, Path, bool]:
    """(session record, its folder, resumed?) for ``--session-id`` (found by id alone, under
    --run-dir or runs/) or a new session on ``load_scene(args)``."""
    from agent.session_store import (check_session_id, find_session, load_record, new_record,
                                     session_dir)

    if args.session_id:
        folder = find_session(check_session_id(args.session_id), args.run_dir)
        if folder is not None:
            record = load_record(folder)
            apply_settings(args, record.settings)
            ignored = " (--scene ignored)" if args.scene is not None else ""
            channel.say(f"(resuming {record.session_id} from {folder}: its table, policy '{record.settings.policy}' "
                        f"and settings as saved{ignored})")
            return record, folder, True
        channel.say(f"(no saved session {args.session_id!r} under {args.run_dir or 'runs/'}; starting it new)")
    session_id = args.session_id or f"session-{uuid4().hex[:8]}"
    record = new_record(session_id, load_scene(args), session_settings(args))
    return record, session_dir(args.run_dir or DEFAULT_RUN_DIR, session_id), False


def make_executor(args: argparse.Namespace, env: Any) -> Any:
    """The executor ``--policy`` names; a bad ``--checkpoint`` fails here with the loader's message."""
    config = RunConfig(policy=args.policy, policy_checkpoint=str(args.checkpoint), image_size=args.image_size,
                       policy_server=args.policy_server, policy_api_key=args.api_key)
    return EXECUTORS[args.policy](env, SharedModels(config))


@dataclass
class LiveSession:
    """One open session: its table (a TabletopEnv), its folder, transcript and the
    :class:`agent.driver.AgentSession` every front end drives (this terminal, the browser
    console of ``console/``)."""

    record: Any  # agent.session_store.SessionRecord
    folder: Path
    resumed: bool
    env: Any  # sim.tabletop_env.TabletopEnv
    transcript: Any  # agent.transcript.TranscriptWriter
    session: Any  # agent.driver.AgentSession
    save_table: Callable[[], None]

    @property
    def session_id(self) -> str:
        return self.record.session_id


@contextmanager
def open_live(args: argparse.Namespace, channel: Channel, on_event: Optional[Callable[[Any], None]] = None,
              arm_view: Optional[Callable[[Any], Any]] = None) -> Iterator[LiveSession]:
    """Open (or resume, with ``--session-id``) a session on its table; closed on exit.

    ``on_event`` sees every transcript event after the session's own handling; ``arm_view``
    wraps the arm the agent drives (the console watches its states and frames through it)."""
    from agent.context import AgentContext, NoInterjections
    from agent.driver import AgentSession
    from agent.session_store import CHECKPOINT_FILE, POSE_SAVE_EVERY, TRANSCRIPT_FILE, poses_now, save_record
    from agent.transcript import TranscriptEvent, TranscriptWriter
    from perception.grounding import Grounder
    from perception.proposals import perceive
    from sim.pybullet_arm import ObjectPose
    from sim.tabletop_env import TabletopEnv

    record, folder, resumed = open_record(args, channel)
    scene = record.scene
    if hasattr(channel, "set_scene"):  # a voice channel reads what it hears against the table
        channel.set_scene(scene.objects)
    env = TabletopEnv(image_size=args.image_size, gui=args.gui, detail_size=RunConfig().perception_size)
    env.reset(seed=args.seed, options={"scene": scene})
    if record.poses:  # where the last session left the objects
        env.arm.set_object_poses({k: ObjectPose(np.asarray(p.position), np.asarray(p.orientation))
                                  for k, p in record.poses.items()})

    def save_table() -> None:
        record.poses = poses_now(env)
        save_record(folder, record)

    def show(event: TranscriptEvent) -> None:
        if event.kind in SHOWN_EVENTS:
            channel.say(f"  [robot {SHOWN_EVENTS[event.kind]}] {event.text}")
        step = event.data.get("step")
        if event.kind == "outcome" or (event.kind == "action" and isinstance(step, int) and step % POSE_SAVE_EVERY == 0):
            save_table()  # a kill mid-motion resumes on the table as it stood a moment before
        if on_event is not None:
            on_event(event)

    save_table()
    transcript = TranscriptWriter(record.session_id, folder / TRANSCRIPT_FILE, on_event=show)
    try:  # a bad checkpoint fails here: the physics client is closed before the one-line error
        context = AgentContext(
            arm=arm_view(env.arm) if arm_view is not None else env.arm,
            perceive=lambda obs: perceive(obs, viewpoint=scene.viewpoint, labels=env.arm.segmentation_labels),
            grounder=Grounder(),
            executor=make_executor(args, env),
            transcript=transcript,
            consistency=load_consistency(args, channel),
            calibration=load_calibration(args, channel),
            interjections=getattr(channel, "interjections", None) or NoInterjections(),
            say=lambda text: channel.say(f"robot: {text}"),
        )
        session = AgentSession(context, record.session_id, folder / CHECKPOINT_FILE)
    except BaseException:
        env.close()
        raise
    try:
        yield LiveSession(record, folder, resumed, env, transcript, session, save_table)
    finally:
        session.close()
        env.close()


def converse(live: LiveSession, channel: Channel) -> None:
    """The dialogue loop: instructions, questions and answers through ``channel`` until the
    person quits (a reply of None, "quit" or "exit")."""
    from agent.driver import Question
    from agent.recovery import recover

    session = live.session
    turn: Any = session.pending()
    if live.resumed and turn is None:
        turn = recover(session).turn  # a run the kill cut: carried on, or the cut motion told
    while True:
        if isinstance(turn, Question):
            shown = f"\n  [picture: {turn.image}]" if turn.image else ""
            reply = channel.ask(f"robot asks: {turn.text}{shown}")
            if reply is None or reply.lower().strip(" .!?") in ("quit", "exit"):
                return
            if not reply:  # silence or nothing intelligible: ask again
                continue
            turn = session.resume(reply)
            live.save_table()
            continue
        said = channel.ask("")
        if said is None or said.lower().strip(" .!?") in ("quit", "exit"):
            return
        if said:
            turn = session.start(said)
            live.save_table()


def run(args: argparse.Namespace) -> int:
    channel = CHANNELS["voice" if args.voice else args.channel](args)
    try:
        with open_live(args, channel) as live:
            scene = live.record.scene
            channel.say("On the table: " + ", ".join(o.describe() for o in scene.objects) + ". Type 'quit' to end.")
            converse(live, channel)
    finally:
        if hasattr(channel, "close"):
            channel.close()
    channel.say(f"transcript: {live.transcript.path}")
    where = "" if live.folder.parent.resolve() == DEFAULT_RUN_DIR.resolve() else f" --run-dir {live.folder.parent}"
    channel.say(f"resume with: python main.py session --session-id {live.session_id}{where}")
    return 0
