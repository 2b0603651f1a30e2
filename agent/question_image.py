"""Questions that show: the camera frame with the question's options drawn as numbered boxes.

Numbers follow the order the question names the options (1 = named first), which is also
what a spoken number in the answer means ("number two", "2": see
``agent.dialogue.interpret_answer``). Small camera frames (96 px) are upscaled with nearest-
neighbour sampling so the digits stay legible; boxes are scaled with them.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Sequence

import numpy as np

from perception.types import PerceivedObject

#: Shortest side (pixels) of the saved image; smaller frames are upscaled by an integer factor.
MIN_SIDE_PX = 480
#: Box colours cycled over the options (RGB), chosen to stand out on a grey-brown table.
BOX_COLOURS: tuple[tuple[int, int, int], ...] = ((255, 40, 200), (0, 230, 255), (255, 230, 0), (60, 255, 60))


def draw_question(rgb: np.ndarray, options: Sequence[PerceivedObject], path: str | Path,
                  caption: str = "") -> Path:
    """Save ``rgb`` (H, W, 3) uint8 with each option's box (pixels of ``rgb``) numbered 1..n.

    ``caption`` (the question) is written in a band under the picture. Returns the PNG path.
    """
    from PIL import Image, ImageDraw, ImageFont

    frame = np.asarray(rgb)[..., :3].astype(np.uint8)
    h, w = frame.shape[:2]
    scale = max(1, int(np.ceil(MIN_SIDE_PX / max(1, min(h, w)))))
    image = Image.fromarray(frame).resize((w * scale, h * scale), Image.NEAREST)
    font_size = max(14, image.height // 14)
    font = ImageFont.load_default(size=font_size)
    small = ImageFont.load_default(size=max(12, font_size // 2))
    # Wrap the caption to the picture's width (a glyph of the default font is ~0.55 em wide).
    lines = textwrap.wrap(caption, max(20, int(image.width / (0.55 * small.size)))) if caption else []
    band = (small.size + 6) * len(lines) + (small.size if lines else 0)
    canvas = Image.new("RGB", (image.width, image.height + band), (20, 20, 20))
    canvas.paste(image, (0, 0))
    draw = ImageDraw.Draw(canvas)
    line = max(2, scale // 2)
    for number, obj in enumerate(options, start=1):
        colour = BOX_COLOURS[(number - 1) % len(BOX_COLOURS)]
        x0, y0, x1, y1 = (float(v) * scale for v in obj.box)
        pad = line + 2  # a little outside the object so the box does not hide its edges
        draw.rectangle((x0 - pad, y0 - pad, x1 + pad, y1 + pad), outline=colour, width=line)
        label = str(number)
        tx, ty = x0 - pad, max(0.0, y0 - pad - font_size - 4)
        left, top, right, bottom = draw.textbbox((tx, ty), label, font=font)
        draw.rectangle((left - 3, top - 3, right + 3, bottom + 3), fill=(0, 0, 0))
        draw.text((tx, ty), label, fill=colour, font=font)
    for k, text in enumerate(lines):
        draw.text((8, image.height + small.size // 2 + k * (small.size + 6)), text, fill=(240, 240, 240), font=small)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(path)
    return path
