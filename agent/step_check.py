"""The referee of a multi-step intent: which of the person's steps hold, and in what order they
first held (``user.ordered``). Privileged: reads the simulator, as the runner does; the agent
never sees it (its simulated person is told which steps are done, to answer about the others).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from agent.scenario import Scenario
from agent.simulated_user import SimulatedUser


def steps_check(env: Any, scenario: Scenario) -> Any:
    """Every intent of the scenario checked at once (``sim.success.check_all``)."""
    from sim.success import check_all

    tasks = [i.to_task() for i in scenario.user.intents]
    return check_all([t for t in tasks if t is not None], scenario.scene, env.world_state())


@dataclass
class StepOrder:
    """The order in which the steps of a list intent first held, noted after every motion the
    agent judged with its own look (the runner is the referee of ``user.ordered``)."""

    achieved: list[int]
    user: Optional[SimulatedUser] = None  # told which steps hold (it answers about the others)

    def note(self, env: Any, scenario: Scenario) -> None:
        """After a motion: the steps that hold now and did not before, in the order seen."""
        for i, held in enumerate(steps_check(env, scenario).done):
            if held and i not in self.achieved:
                self.achieved.append(i)
        if self.user is not None:
            self.user.done_steps = set(self.achieved)


def verify_steps(env: Any, scenario: Scenario, order: StepOrder) -> tuple[bool, str, int]:
    """(success, reason, steps done) of a list intent: all hold now, in list order if ``ordered``."""
    report = steps_check(env, scenario)
    reason = "; ".join(f"step {i + 1}: {r}" for i, r in enumerate(report.reasons))
    success = report.success
    if success and scenario.user.ordered and order.achieved != sorted(order.achieved):
        success, reason = False, f"steps done in the order {[i + 1 for i in order.achieved]}, not as listed; {reason}"
    return success, reason, report.steps_done
