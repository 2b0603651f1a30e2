"""The agent applies the one relation geometry (sim/relations.py) to what it PERCEIVED: the
composed placement's spot and its own look afterwards use half the measured extent as each
object's footprint radius."""

from __future__ import annotations

import numpy as np
import pytest

from agent.context import ActTarget
from agent.outcome_check import check_outcome
from agent.relation_spot import composes, spot_of, spot_xy
from perception.types import PerceivedObject, SceneObservation
from sim.relations import GAP_M, Footprint, judge_region


def _obj(index: int, color: str, shape: str, x: float, y: float, extent: float, height: float) -> PerceivedObject:
    return PerceivedObject(index=index, color=color, shape=shape, size="medium", position=(x, y, height / 2),
                           box=(0, 0, 1, 1), extent=extent, height=height)


BOWL = _obj(1, "yellow", "bowl", 0.52, 0.0, 0.18, 0.045)  # 9 cm radius
CUBE = _obj(2, "green", "cube", 0.40, 0.20, 0.05, 0.04)
BALL = _obj(3, "blue", "ball", 0.52, -0.27, 0.05, 0.05)
OPEN_HAND = np.array([0.5, 0.0, 0.2, 0.0, 0.0, 0.0, 1.0, 0.0])  # proprio: let go, fingers open


def _target(relation: str, place=BOWL, place2=None, region=None, viewpoint: str = "user") -> ActTarget:
    return ActTarget(pick=CUBE, place=place, relation=relation, instruction="", viewpoint=viewpoint, place2=place2,
                     region=region, others=(BOWL, CUBE, BALL))


def test_the_spot_beside_a_bowl_is_beyond_its_rim() -> None:
    reach = 0.09 + 0.025 + GAP_M
    assert spot_xy(_target("left_of")) == pytest.approx([0.52, -reach])
    assert spot_xy(_target("left_of", viewpoint="robot")) == pytest.approx([0.52, reach])
    assert spot_xy(_target("in_front_of")) == pytest.approx([0.52 + reach, 0.0])
    # next to: the side nearest the cube (it stands at +y, behind the bowl for the person).
    assert spot_xy(_target("next_to")) == pytest.approx([0.52, reach])


def test_between_and_regions_are_composed_at_their_spots() -> None:
    between = _target("between", place2=BALL)
    x, y = spot_xy(between)
    assert x == pytest.approx(0.52) and -0.27 + 0.025 < y < -0.09
    corner = _target("region", place=None, region="front_left")
    assert composes(corner) and composes(between) and not composes(_target("in"))
    spot = spot_of(corner)
    assert spot is not None and spot.shape == "bowl"
    assert judge_region(Footprint(spot.position[:2], 0.025), "front_left").ok


def _after(pick_xy: tuple[float, float]) -> SceneObservation:
    moved = CUBE.model_copy(update={"position": (*pick_xy, 0.02)})
    return SceneObservation(objects=[BOWL, moved, BALL])


@pytest.mark.parametrize("xy, done", [
    ((0.52, -(0.09 + 0.025 + 0.03)), True),   # a 3 cm gap beside the rim
    ((0.52, -(0.09 + 0.025 - 0.02)), False),  # on the rim
    ((0.52, -(0.09 + 0.025 + 0.002)), False),  # touching it: "next to" needs a gap, no slack there
    ((0.52, -(0.09 + 0.025 + 0.085)), True),  # 8.5 cm: the far limit keeps its 1 cm slack
    ((0.52, 0.09 + 0.025 + 0.03), False),     # the wrong side
])
def test_its_own_look_judges_footprints(xy: tuple[float, float], done: bool) -> None:
    before = SceneObservation(objects=[BOWL, CUBE, BALL])
    verdict = check_outcome(_target("left_of"), before, _after(xy), OPEN_HAND)
    assert verdict.done is done, verdict.reason


def test_a_measured_footprint_is_the_radius_relations_use():
    from agent.relation_spot import perceived_footprint
    from perception.types import PerceivedObject

    seen = PerceivedObject(index=1, color="red", shape="bowl", size="medium", position=(0.5, 0.0, 0.02),
                           box=(0, 0, 9, 9), extent=0.165, footprint=0.091)
    assert perceived_footprint(seen).radius == 0.091
    assert perceived_footprint(seen.model_copy(update={"footprint": None})).radius == 0.0825
