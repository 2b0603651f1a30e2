"""A second object put "in" a bowl is aimed at the free spot inside it, not at the centre where the
first one already lies (one definition, ``sim.relations.free_spot_in``, for the expert and the
agent's steering)."""

from __future__ import annotations

import numpy as np

from agent.context import ActTarget
from agent.executor_rules import executor_kwargs, parse_rules
from agent.relation_spot import in_bowl_spot, spot_of
from perception.types import PerceivedObject
from sim.relations import Footprint, free_spot_in


def _obj(index: int, shape: str, xy: tuple[float, float], extent: float, z: float = 0.02) -> PerceivedObject:
    return PerceivedObject(index=index, color="red", shape=shape, size="medium", position=(xy[0], xy[1], z),
                           box=(0, 0, 10, 10), extent=extent, height=2 * z)


BOWL = _obj(1, "bowl", (0.5, 0.0), 0.18)
CUBE = _obj(2, "cube", (0.4, 0.2), 0.05)


def test_an_empty_bowl_is_aimed_at_its_centre() -> None:
    assert np.allclose(free_spot_in(Footprint((0.5, 0.0), 0.09), 0.082, 0.025, []), [0.5, 0.0])
    target = ActTarget(pick=CUBE, place=BOWL, relation="in", instruction="", others=(BOWL, CUBE))
    assert in_bowl_spot(target) is None and spot_of(target, in_bowl=True) is None


def test_a_bowl_with_a_cube_in_it_is_aimed_away_from_the_cube() -> None:
    lying = _obj(3, "cube", (0.5, 0.0), 0.05)  # already at the bowl's centre
    target = ActTarget(pick=CUBE, place=BOWL, relation="in", instruction="", others=(BOWL, CUBE, lying))
    spot = in_bowl_spot(target)
    assert spot is not None and spot.shape == "bowl" and spot.extent == BOWL.extent
    offset = float(np.linalg.norm(np.asarray(spot.position[:2]) - np.asarray(BOWL.position[:2])))
    # As far out as the cube fits inside the wall: 0.09 - 0.008 - 0.025 - 0.006 from the centre.
    assert abs(offset - (0.09 - 0.008 - 0.025 - 0.006)) < 1e-6
    assert spot_of(target) is None  # only when the executor's free_spot rule asks for it


def test_objects_outside_the_wall_and_other_relations_leave_the_bowl_as_it_is() -> None:
    beside = _obj(3, "cube", (0.5, 0.12), 0.05)
    assert in_bowl_spot(ActTarget(pick=CUBE, place=BOWL, relation="in", instruction="", others=(beside,))) is None
    lying = _obj(3, "cube", (0.5, 0.0), 0.05)
    on_cube = ActTarget(pick=CUBE, place=lying, relation="on", instruction="", others=(lying,))
    assert in_bowl_spot(on_cube) is None


def test_free_spot_is_a_switchable_executor_rule() -> None:
    _, on = parse_rules("all")
    _, off = parse_rules("steering,staging,step_back,release_ends,homing,put_back")
    assert executor_kwargs(on)["free_spot"] and not executor_kwargs(off)["free_spot"]
