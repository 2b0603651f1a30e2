"""Hand-made perceived scenes: perception output without rendering, for language tests."""

from __future__ import annotations

from typing import Callable

import pytest

from perception.types import PerceivedObject, SceneObservation


def make_object(index: int, color: str, shape: str, x: float, y: float, size: str = "small",
                p: float = 0.9) -> PerceivedObject:
    """An object perception is ``p`` sure of (rest of the mass on 'orange' / 'cylinder')."""
    alt_color = "orange" if color != "orange" else "red"
    alt_shape = "cylinder" if shape != "cylinder" else "cube"
    return PerceivedObject(index=index, color=color, shape=shape, size=size, position=(x, y, 0.02),
                           box=(0, 0, 1, 1), color_scores={color: p, alt_color: 1 - p},
                           shape_scores={shape: p, alt_shape: 1 - p})


@pytest.fixture
def two_red_cubes() -> Callable[[str], SceneObservation]:
    """The contract's example: red cubes at y=+0.12 (index 1) and y=-0.12 (index 2), a green bowl."""

    def build(viewpoint: str = "user") -> SceneObservation:
        return SceneObservation(viewpoint=viewpoint, objects=[
            make_object(1, "red", "cube", 0.55, 0.12),
            make_object(2, "red", "cube", 0.55, -0.12),
            make_object(3, "green", "bowl", 0.45, 0.0, size="medium"),
            make_object(4, "blue", "ball", 0.65, 0.05),
        ])

    return build
