"""An object that ended outside the arm's workspace is reported as out of reach, not retried."""

from __future__ import annotations

from types import SimpleNamespace

from agent.nodes_verify import _within_reach
from perception.types import PerceivedObject
from sim.safety import SafetyEnvelope


def _ball(x: float, y: float) -> PerceivedObject:
    return PerceivedObject(index=1, color="red", shape="ball", size="medium", position=(x, y, 0.025),
                           box=(1, 1, 4, 4), extent=0.05, height=0.05)


def test_a_ball_that_rolled_past_the_workspace_is_out_of_reach() -> None:
    ctx = SimpleNamespace(arm=SimpleNamespace(safety=SafetyEnvelope()))
    assert _within_reach(ctx, _ball(0.45, -0.10))
    assert not _within_reach(ctx, _ball(0.045, -0.11))  # rolled off towards the robot's base
    assert not _within_reach(ctx, _ball(0.50, 0.55))
    assert _within_reach(SimpleNamespace(arm=object()), _ball(0.45, 0.0))  # an arm without one: the default box
