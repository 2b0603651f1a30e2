"""Command line: python main.py COMMAND [options]. Each command lives in its own module.

Commands are imported only when used, so `python main.py transcribe` never loads pybullet and
`python main.py train` never loads langgraph.

An error a command did not handle itself is printed as ONE line (``error: ...``, naming the file
and field where the message does) and the exit code is 1; ``--debug`` anywhere on the command
line shows the traceback instead.
"""

from __future__ import annotations

import argparse
import importlib
import sys

#: command -> (module with add_arguments(parser) and run(args) -> int, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "session": ("agent.commands.session", "interactive robot session (text, or --voice)"),
    "console": ("console.command", "operator console in the browser: camera, reasoning, questions as boxes, STOP"),
    "episodes": ("agent.commands.episodes", "run scenario files or a procedural suite, write a report"),
    "demo": ("agent.commands.demo", "run the bundled scenarios and print dialogue, decisions and results"),
    "collect": ("agent.commands.collect", "record scripted-expert demonstrations for policy training"),
    "dagger": ("agent.commands.dagger", "rows from the states a policy drives the arm into, labelled by the expert"),
    "train": ("policy.commands.train", "train the PaliGemma VLA policy (full or --lora)"),
    "train-namer": ("policy.commands.train_namer", "train the object namer (second look at listed objects)"),
    "eval": ("agent.commands.evaluate", "closed-loop evaluation of a policy checkpoint in sim"),
    "calibrate": ("agent.commands.calibrate", "conformal calibration of grounding confidence"),
    "train-siglip": ("perception.commands.train_siglip", "train the small SigLIP embedder on sim renders"),
    "train-speech": ("agent.commands.train_speech", "adapt whisper's decoder to the robot's speech (LoRA)"),
    "transcribe": ("perception.commands.transcribe", "print one transcript line per audio file"),
    "serve": ("serving.commands.serve", "serve the VLA policy over openpi's websocket protocol"),
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    debug = "--debug" in argv
    argv = [a for a in argv if a != "--debug"]
    parser = argparse.ArgumentParser(prog="main.py", description=__doc__.splitlines()[0],
                                     epilog="--debug (any position): show tracebacks instead of one-line errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        parser.print_help()
        return 0 if not argv or argv[0] in ("-h", "--help") else 2
    name = argv[0]
    module = importlib.import_module(COMMANDS[name][0])
    cmd_parser = argparse.ArgumentParser(prog=f"main.py {name}", description=COMMANDS[name][1])
    module.add_arguments(cmd_parser)
    args = cmd_parser.parse_args(argv[1:])
    try:
        return int(module.run(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one line for the person; the traceback with --debug
        if debug:
            raise
        print(f"error: {one_line(exc)} (--debug shows the traceback)", file=sys.stderr)
        return 1


def one_line(exc: BaseException) -> str:
    """The exception as one line: its message, after its type unless it is a plain
    ValueError/OSError/RuntimeError subclass whose message already says what went wrong."""
    text = " ".join(str(exc).split())
    if text and isinstance(exc, (ValueError, OSError, RuntimeError)):
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


if __name__ == "__main__":
    sys.exit(main())
