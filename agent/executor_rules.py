"""The agent's executor-level rules: what ``agent.vla_executor.VLAExecutor`` does around the
policy's motion, one named part each with its own config, switched with ``--rules`` beside the
policy's runtime rules (``policy/inference/rules.py``; the same :class:`policy.inference.rules.RuleSet` holds both).

* ``steering``: the agent's grounded boxes are written into every chain of thought (ECoT's
  reasoning intervention); off, the policy reads the agent's full rewrite of the words alone.
  A placement the demonstrations never showed is composed from "in" only when steered.
* ``staging``: a placement whose object stands closer to its destination than any demonstration
  runs as "pick up the X", then the placement (needs ``steering``).
* ``step_back``: after the policy's motion ends with the hand open, rise clear and (``home``) go
  home, so the look that judges the motion sees the table without the arm over what it set down.
* ``release_ends``: a put-down's motion ends when the hand lets go of what it held; the policy,
  asked on, starts its reach again and knocks over what it had just stacked.
* ``free_spot``: "in" a bowl something already lies in aims the PLACE box at the free spot
  inside it (``agent.relation_spot.in_bowl_spot``), not the bowl's centre (needs ``steering``).
* ``homing``: a motion that starts with an empty hand away from home first goes home.
* ``put_back``: "no, the other one" with the wrong object in the hand runs a proprio-only motion
  back to where it stood; off, the policy is asked with the words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Optional

from policy.inference.rules import RULES, RuleSet

from agent.put_back_motion import CLEAR_MARGIN


@dataclass(frozen=True)
class Steering:
    name: ClassVar[str] = "steering"
    # Snap a steering box to the policy's own listed box of the object at this IoU (None: as measured).
    snap_iou: Optional[float] = None


@dataclass(frozen=True)
class Staging:
    name: ClassVar[str] = "staging"


@dataclass(frozen=True)
class StepBack:
    name: ClassVar[str] = "step_back"
    # Then go to the home pose: an arm left over the bowl hides the object and corrupts its measure.
    home: bool = True
    # Rise with the fingers narrowed to the held opening plus this (None: wide open), off a bowl's
    # wall a wide-open finger presses on and would lift the bowl with.
    clear_margin: Optional[float] = CLEAR_MARGIN


@dataclass(frozen=True)
class ReleaseEnds:
    name: ClassVar[str] = "release_ends"


@dataclass(frozen=True)
class FreeSpot:
    name: ClassVar[str] = "free_spot"


@dataclass(frozen=True)
class Homing:
    name: ClassVar[str] = "homing"
    # An empty hand farther than this (m) from home goes home first.
    home_m: float = 0.05


@dataclass(frozen=True)
class PutBack:
    name: ClassVar[str] = "put_back"


#: name -> executor rule config class.
EXECUTOR_RULES: dict[str, type] = {cls.name: cls for cls in (Steering, Staging, StepBack, ReleaseEnds, FreeSpot, Homing, PutBack)}

#: Every rule ``--rules`` knows: the policy runtime's, then the executor's.
ALL_RULES: dict[str, type] = {**RULES, **EXECUTOR_RULES}


def parse_rules(spec: str) -> tuple[RuleSet, RuleSet]:
    """``--rules`` (none, all or names from :data:`ALL_RULES`) -> (runtime rules, executor rules)."""
    rules = RuleSet.parse(spec, ALL_RULES)
    return rules.only(tuple(RULES)), rules.only(tuple(EXECUTOR_RULES))


def executor_kwargs(rules: RuleSet) -> dict[str, Any]:
    """``VLAExecutor`` keyword arguments for the executor rules switched on in ``rules``."""
    steering, homing, step_back = rules.get("steering"), rules.get("homing"), rules.get("step_back")
    return {"steer": steering is not None, "snap_iou": steering.snap_iou if steering is not None else None,
            "stage_close": rules.on("staging"), "step_back": step_back is not None,
            "step_back_home": step_back is not None and step_back.home, "release_ends": rules.on("release_ends"),
            "clear_margin": step_back.clear_margin if step_back is not None else None,
            "home_m": homing.home_m if homing is not None else None, "put_back": rules.on("put_back"),
            "free_spot": rules.on("free_spot")}
