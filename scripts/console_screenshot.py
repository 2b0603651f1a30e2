"""The README's picture of the console during a question: two red cubes, "put the red cube in
the green bowl", the question's candidates as numbered boxes.

    python scripts/console_screenshot.py [--out docs/figures/console_question.png]

Runs `main.py console` on 127.0.0.1 (expert policy, throw-away session folder), opens it in
Debian's headless Chromium, types the command, waits for the question and saves the page as a
256-colour PNG.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "figures" / "console_question.png")
    args = parser.parse_args(argv)
    from PIL import Image

    from console.headless import browser_unavailable, chromium_page, running_console

    reason = browser_unavailable()
    if reason:
        print(f"console_screenshot: {reason}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as runs:
        argv_console = ["--scene", str(ROOT / "scenarios" / "two-red-cubes.yaml"), "--policy", "expert", "--run-dir", runs]
        with running_console(argv_console) as (_, server), chromium_page(viewport=(1180, 640)) as page:
            page.goto(server.url)
            page.wait_for_function("window.consoleStats.frames > 0 && document.getElementById('turn').textContent === 'your turn'")
            page.fill("#text", "put the red cube in the green bowl")
            page.press("#text", "Enter")
            page.wait_for_selector("#question:not([hidden])")
            page.wait_for_timeout(300)  # the frame after the look is drawn
            shot = Path(runs) / "shot.png"
            page.screenshot(path=str(shot))
            args.out.parent.mkdir(parents=True, exist_ok=True)
            Image.open(shot).convert("RGB").quantize(colors=256).save(args.out, optimize=True)
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
