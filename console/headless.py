"""Run the console on loopback and look at it in a headless Chromium (the browser tests, the
benchmark and the screenshot script share this).

Debian's ``chromium`` at ``/usr/bin/chromium``, driven by playwright (its own browser download
is not used). Chromium gets the flags a closed network needs (no background networking, no
component updates, no QUIC) and a fresh profile folder each time.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Optional

CHROMIUM = Path(os.environ.get("CONSOLE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]


def browser_unavailable() -> Optional[str]:
    """Why the page cannot be driven here (None: it can)."""
    if not CHROMIUM.is_file():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium chromium-driver; scripts/setup.sh does it as root)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -r requirements.txt)"
    return None


def console_args(argv: list[str]) -> argparse.Namespace:
    """`main.py console` arguments from a list (port 0: any free port)."""
    from console.command import add_arguments

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(["--port", "0", *argv])


@contextmanager
def running_console(argv: list[str], max_fps: float = 10.0) -> Iterator[tuple[Any, Any]]:
    """(ConsoleApp, ConsoleServer) serving on 127.0.0.1 with a session open; closed on exit."""
    from console.app import ConsoleApp
    from console.feed import Feed
    from console.server import ConsoleServer

    args = console_args(argv)
    app = ConsoleApp(args, Feed(max_fps=max_fps))
    server = ConsoleServer(app, "127.0.0.1", 0).start_in_thread()
    app.start()
    try:
        if not app.opened.wait(120) or app.error is not None:
            raise RuntimeError(f"the console's session did not open: {app.error}")
        yield app, server
    finally:
        app.close(timeout=30)
        server.stop()


@contextmanager
def chromium_page(viewport: tuple[int, int] = (1180, 760)) -> Iterator[Any]:
    """A playwright Page in a headless Debian Chromium with a fresh profile."""
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="console-chromium-")
    try:
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                profile, executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
                viewport={"width": viewport[0], "height": viewport[1]},
                bypass_csp=True)  # the harness evaluates JS strings; the page itself keeps its CSP
            try:
                page = context.pages[0] if context.pages else context.new_page()
                page.set_default_timeout(60_000)
                yield page
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def candidate_point(page: Any, number: int) -> tuple[float, float]:
    """Where on the camera canvas (CSS pixels) candidate ``number``'s box is drawn."""
    return page.evaluate("""(n) => {
        const c = view.question.candidates.find((k) => k.number === n);
        const el = document.getElementById('camera'), s = el.getBoundingClientRect().width / view.imageSize;
        return [(c.box[0] + c.box[2]) / 2 * s, (c.box[1] + c.box[3]) / 2 * s];
    }""", number)
