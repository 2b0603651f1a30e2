"""`python main.py console [--host 127.0.0.1] [--port 8080] [--policy vla|expert]
[--scene FILE | --seed N] [--voice]`: the operator console in the browser.

Open the printed URL. The page shows the camera with the perceived objects, the chat, the
policy's reasoning (TARGET box on the picture), the agent's decisions with their scores and the
arm's state; questions show their candidates as numbered boxes (click one, or its button, or
type, or hold the talk button); STOP (or Space) halts the arm within one control step. Sessions
are the same folders, transcript and SQLite checkpoints as `main.py session` (``--session-id``
resumes one; the page lists them). Any --host other than loopback prints an access token.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets

from agent.commands import session as session_command


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default loopback only; "
                        "another one requires the access token printed at start)")
    parser.add_argument("--port", type=int, default=8080, help="port to listen on (0: any free port)")
    parser.add_argument("--max-fps", type=float, default=10.0, help="most camera frames a second sent to a page")
    session_command.add_arguments(parser)  # the session's own options: one definition of each
    for action in parser._actions:  # the terminal's audio options mean nothing in the page
        if action.dest in TERMINAL_ONLY:
            action.help = argparse.SUPPRESS
        if action.dest == "voice":
            action.help = "push-to-talk in the page: the browser's microphone through whisper (--whisper-model)"


#: `session` options the console accepts but does not use (the page is the channel).
TERMINAL_ONLY = frozenset({"channel", "audio_in", "audio_out", "tts", "gui"})


def load_transcriber(args: argparse.Namespace):
    """Whisper for push-to-talk (the same model as `session --voice`), or None with a note."""
    from perception.speech.models import ModelUnavailable
    from perception.speech.stt import SttConfig, WhisperTranscriber

    transcriber = WhisperTranscriber(SttConfig(model=args.whisper_model, adapter=args.speech_adapter))
    try:
        transcriber.model  # noqa: B018 (load now: a missing model is said at start, not at the first word)
    except ModelUnavailable as exc:
        print(f"[voice] {exc}; push-to-talk is off", flush=True)
        return None
    return transcriber


def run(args: argparse.Namespace) -> int:
    from console.app import ConsoleApp
    from console.feed import Feed
    from console.server import ConsoleServer, needs_token

    if not 0 <= args.port <= 65535:
        raise ValueError(f"--port {args.port}: use 0..65535")
    token = secrets.token_urlsafe(18) if needs_token(args.host) else None
    app = ConsoleApp(args, Feed(max_fps=args.max_fps), load_transcriber(args) if args.voice else None)
    server = ConsoleServer(app, args.host, args.port, token)

    async def serve() -> None:
        await server.start()
        print(f"console: {server.url}", flush=True)
        if token:
            print(f"access token: {token} (needed from any machine; keep it private)", flush=True)
        app.start()
        while app.running:
            await asyncio.sleep(0.2)

    try:
        asyncio.run(serve())
    finally:
        app.close(timeout=10)
    if app.error is not None:
        raise app.error
    return 0
