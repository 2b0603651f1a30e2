"""Questions that show: each question saves the camera frame with its options as numbered boxes,
and an answer by number picks the option drawn with that number."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image

from agent.driver import Finished, Question
from agent.question_image import BOX_COLOURS, MIN_SIDE_PX
from agent.transcript import read_transcript
from tests.agent.test_graph_scenarios import Rig, rig  # noqa: F401 (pytest fixture)


def _outline_colour(image: np.ndarray, box: tuple[float, ...], scale: int) -> tuple[int, int, int]:
    """Colour drawn just left of the box's left edge, halfway down (where the outline runs)."""
    x0, y0, x1, y1 = (int(round(v * scale)) for v in box)
    return tuple(int(c) for c in image[(y0 + y1) // 2, x0 - max(2, scale // 2) - 1])


def test_question_picture_numbers_the_options_in_the_order_named(rig: Callable[..., Rig]) -> None:
    r = rig()
    question = r.session.start("put the red cube in the green bowl")
    assert isinstance(question, Question) and question.image is not None
    png = Path(question.image)
    assert png.is_file() and png.suffix == ".png"
    events = [e for e in read_transcript(r.transcript.path) if e.kind == "question"]
    assert events[-1].data["image"] == question.image  # also written in the transcript

    image = np.asarray(Image.open(png).convert("RGB"))
    frame_side = r.env.arm.get_observation()["rgb"].shape[0]
    scale = image.shape[1] // frame_side
    assert image.shape[1] >= MIN_SIDE_PX  # a 96 px frame is upscaled so the digits are legible
    for number, candidate in enumerate(question.candidates, start=1):
        assert _outline_colour(image, candidate.box, scale) == BOX_COLOURS[number - 1]

    second = question.candidates[1].sim_id
    done = r.session.resume("number two")
    assert isinstance(done, Finished) and done.acted_on == second
