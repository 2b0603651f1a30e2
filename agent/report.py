"""Episode report: the JSON contract of ARCHITECTURE.md ("Episode report") plus a results table.

``{"episodes": [EpisodeResult...], "summary": Summary}``. Contract fields keep their names;
extras (acted_on, acted_on_intended, status, session_id, transcript, ...) are optional.
Summary definitions (over all episodes, malformed scenarios included):
- ``success_rate``: fraction of episodes whose intent was achieved;
- ``ask_rate``: fraction of episodes in which the agent asked at least one question;
- ``unneeded_asks``: episodes that asked more than ``expect.ask`` allows (asked when it
  should have acted);
- ``missed_asks``: episodes that asked fewer questions than ``expect.ask`` requires;
- ``asks`` / ``reperceptions`` / ``retries``: totals of questions, second looks and motions tried
  again after the robot's own look said they missed;
- ``self_check_disagreements``: total first chunks whose chain-of-thought TARGET disagreed with
  the agent's grounding (0 with the privileged expert, whose TARGET is the grounded object);
- ``acted_on_intended_rate``: among episodes where the robot picked something, the share in
  which that was the object the person meant (episodes with no pick are left out);
- ``verdict_accuracy``: among episodes whose last instruction ended with the robot's own verdict
  on a motion ("Done ..." or "I tried ..., but ..."; judged from its look and joints, never from
  the simulator), the share in which that verdict equals ``success`` (the simulator's check of
  the person's intent, made after the agent stopped); ``verdicts`` holds its confusion counts.
- ``steps_done`` / ``steps_total``: intents (steps) that held at the end / asked for (a single
  intent counts one); ``all_steps_rate``: among episodes with a list of more than one intent,
  the share with every step done.
Each row also carries its own ``unneeded_ask`` / ``missed_ask`` flags and ``steps_done`` / ``steps_total``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

from pydantic import BaseModel, Field, computed_field

from agent.scenario import Expect, ScenarioError


class EpisodeResult(BaseModel):
    """One episode row. ``passed``: the outcome matched the scenario's ``expect``."""

    name: str
    passed: bool
    success: bool
    asked: int = 0
    questions: list[str] = Field(default_factory=list)
    reperceptions: int = 0
    retries: int = Field(0, description="motions tried again after the robot's own look said they missed")
    steps: int = 0
    duration_s: float = 0.0
    error: Optional[str] = None
    # -- optional extras --------------------------------------------------------------------
    expect: Optional[Expect] = None
    status: Optional[str] = Field(None, description="agent outcome: success/failed/stopped/cancelled/refused/gave_up/idle (nothing to do: 'stop' with nothing running)")
    acted_on: Optional[str] = Field(None, description="true scene id of the object the robot picked, if any")
    acted_on_intended: Optional[bool] = Field(None, description="acted_on equals user.intent.pick (None when it picked nothing)")
    verdict: Optional[bool] = Field(None, description="the robot's own verdict on its last motion (True: it said done; "
                                    "None: the last instruction ended without one: refused, stopped, ...)")
    moved: list[str] = Field(default_factory=list, description="scene ids that moved more than 2 cm (picked one included)")
    answers: list[str] = Field(default_factory=list, description="what the simulated person answered")
    message: str = ""
    self_check_disagreements: int = Field(0, description="first chunks whose CoT TARGET disagreed with the grounding")
    session_id: Optional[str] = None
    transcript: Optional[str] = None
    source: Optional[str] = None
    family: Optional[str] = Field(None, description="the scenario's task family, if it has one")
    steps_done: Optional[int] = Field(None, description="intents (steps) that hold at the end")
    steps_total: Optional[int] = Field(None, description="intents of the scenario: 1, or the length of its list")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def unneeded_ask(self) -> bool:
        """It asked more questions than ``expect.ask`` allows (it should have acted)."""
        rng = self.expect.ask_range() if self.expect else None
        return rng is not None and rng.max is not None and self.asked > rng.max

    @computed_field  # type: ignore[prop-decorator]
    @property
    def missed_ask(self) -> bool:
        """It asked fewer questions than ``expect.ask`` requires (it should have asked)."""
        return self.expect is not None and self.error is None and self.asked < self.expect.ask_range().min


class FamilySummary(BaseModel):
    """One task family's share of a run: success and help (ask) rates, unneeded asks."""

    episodes: int
    success_rate: float
    ask_rate: float
    unneeded_asks: int
    missed_asks: int


class VerdictCounts(BaseModel):
    """The robot's own verdicts against the simulator's check, episode by episode."""

    said_done_and_done: int = 0
    said_done_but_failed: int = 0
    said_failed_but_done: int = 0
    said_failed_and_failed: int = 0

    @classmethod
    def of(cls, episodes: list[EpisodeResult]) -> "VerdictCounts":
        rows = [(e.verdict, e.success) for e in episodes if e.verdict is not None and e.error is None]
        return cls(said_done_and_done=rows.count((True, True)), said_done_but_failed=rows.count((True, False)),
                   said_failed_but_done=rows.count((False, True)), said_failed_and_failed=rows.count((False, False)))

    @property
    def total(self) -> int:
        return self.said_done_and_done + self.said_done_but_failed + self.said_failed_but_done + self.said_failed_and_failed

    @property
    def accuracy(self) -> Optional[float]:
        right = self.said_done_and_done + self.said_failed_and_failed
        return round(right / self.total, 4) if self.total else None


class Summary(BaseModel):
    episodes: int
    passed: int
    success_rate: float
    ask_rate: float
    unneeded_asks: int
    missed_asks: int
    errors: int = 0
    asks: int = Field(0, description="questions asked over all episodes")
    reperceptions: int = Field(0, description="second looks over all episodes")
    retries: int = Field(0, description="motions tried again after the robot's own look, all episodes")
    self_check_disagreements: int = Field(0, description="policy TARGETs that disagreed with the grounding, all episodes")
    acted_on_intended_rate: Optional[float] = None
    mean_duration_s: Optional[float] = None
    verdict_accuracy: Optional[float] = Field(None, description="the robot's own verdicts that matched the simulator")
    verdicts: VerdictCounts = Field(default_factory=VerdictCounts)
    families: dict[str, FamilySummary] = Field(default_factory=dict, description="per task family, when "
                                                 "episodes carry one (e.g. the knowno suite)")
    steps_done: int = Field(0, description="steps (intents) that held at the end, all episodes")
    steps_total: int = Field(0, description="steps (intents) asked for, all episodes that ran")
    multistep_episodes: int = Field(0, description="episodes whose intent is a list of more than one step")
    all_steps_rate: Optional[float] = Field(None, description="share of the multi-step episodes with every step done")



class Report(BaseModel):
    episodes: list[EpisodeResult]
    summary: Summary

    def write(self, path: str | Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.model_dump(mode="json"), indent=2) + "\n")


def error_result(error: ScenarioError) -> EpisodeResult:
    """The report row of a scenario that could not even be loaded."""
    return EpisodeResult(name=error.label, passed=False, success=False, error=str(error), source=error.path)


def _families(episodes: list[EpisodeResult]) -> dict[str, FamilySummary]:
    out: dict[str, FamilySummary] = {}
    for family in sorted({e.family for e in episodes if e.family}):
        rows = [e for e in episodes if e.family == family]
        out[family] = FamilySummary(
            episodes=len(rows), success_rate=round(sum(e.success for e in rows) / len(rows), 4),
            ask_rate=round(sum(e.asked > 0 for e in rows) / len(rows), 4),
            unneeded_asks=sum(e.unneeded_ask for e in rows), missed_asks=sum(e.missed_ask for e in rows))
    return out


def summarize(episodes: list[EpisodeResult]) -> Summary:
    n = len(episodes)
    acted = [e.acted_on_intended for e in episodes if e.acted_on_intended is not None]
    multi = [e for e in episodes if (e.steps_total or 0) > 1]
    verdicts = VerdictCounts.of(episodes)
    return Summary(
        episodes=n,
        passed=sum(e.passed for e in episodes),
        success_rate=round(sum(e.success for e in episodes) / n, 4) if n else 0.0,
        ask_rate=round(sum(e.asked > 0 for e in episodes) / n, 4) if n else 0.0,
        unneeded_asks=sum(e.unneeded_ask for e in episodes),
        missed_asks=sum(e.missed_ask for e in episodes),
        errors=sum(e.error is not None for e in episodes),
        asks=sum(e.asked for e in episodes),
        reperceptions=sum(e.reperceptions for e in episodes),
        retries=sum(e.retries for e in episodes),
        steps_done=sum(e.steps_done or 0 for e in episodes),
        steps_total=sum(e.steps_total or 0 for e in episodes),
        multistep_episodes=len(multi),
        all_steps_rate=round(sum(e.steps_done == e.steps_total for e in multi) / len(multi), 4) if multi else None,
        self_check_disagreements=sum(e.self_check_disagreements for e in episodes),
        acted_on_intended_rate=round(sum(acted) / len(acted), 4) if acted else None,
        mean_duration_s=round(sum(e.duration_s for e in episodes) / n, 3) if n else None,
        verdict_accuracy=verdicts.accuracy, verdicts=verdicts,
        families=_families(episodes),
    )


def build_report(episodes: list[EpisodeResult]) -> Report:
    return Report(episodes=episodes, summary=summarize(episodes))


def load_report(path: str | Path) -> Report:
    return Report.model_validate_json(Path(path).read_text())


def format_table(report: Report, width: int = 34) -> str:
    """A fixed-width results table, one row per episode, then the summary line."""
    head = f"{'scenario':<{width}} {'pass':<4} {'succ':<4} {'ask':>3} {'reperc':>6} {'steps':>5} {'time s':>6}  note"
    lines = [head, "-" * len(head)]
    for e in report.episodes:
        note = " ".join((e.error or e.status or "").split())  # one line, whatever the error held
        if e.error is None and e.acted_on is not None and e.acted_on_intended is False:
            note += " (acted on the wrong object)"
        name = e.name if len(e.name) <= width else e.name[: width - 1] + "~"
        lines.append(
            f"{name:<{width}} {'yes' if e.passed else 'NO':<4} {'yes' if e.success else 'no':<4} "
            f"{e.asked:>3} {e.reperceptions:>6} {e.steps:>5} {e.duration_s:>6.1f}  {note[:90]}"
        )
    s = report.summary
    lines.append("-" * len(head))
    lines.append(
        f"passed {s.passed}/{s.episodes}  success_rate {s.success_rate:.2f}  ask_rate {s.ask_rate:.2f}  "
        f"unneeded_asks {s.unneeded_asks}  missed_asks {s.missed_asks}  asks {s.asks}  "
        f"reperceptions {s.reperceptions}  errors {s.errors}"
        + (f"  acted_on_intended {s.acted_on_intended_rate:.2f}" if s.acted_on_intended_rate is not None else "")
        + (f"  self_check_disagreements {s.self_check_disagreements}" if s.self_check_disagreements else "")
        + (f"  retries {s.retries}" if s.retries else "")
        + (f"  steps_done {s.steps_done}/{s.steps_total}  all_steps_rate {s.all_steps_rate:.2f}"
           if s.all_steps_rate is not None else "")
    )
    if s.verdicts.total:
        v = s.verdicts
        lines.append(f"own verdicts: accuracy {s.verdict_accuracy:.3f} over {v.total}  (said done: {v.said_done_and_done} "
                     f"right, {v.said_done_but_failed} wrong; said failed: {v.said_failed_and_failed} right, "
                     f"{v.said_failed_but_done} wrong)")
    for family, f in s.families.items():
        lines.append(f"  {family:<14} {f.episodes:>4} episodes  success {f.success_rate:.2f}  help (ask) rate "
                     f"{f.ask_rate:.2f}  unneeded asks {f.unneeded_asks}  missed asks {f.missed_asks}")
    return "\n".join(lines)
