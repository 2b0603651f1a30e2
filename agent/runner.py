"""Run scenarios end to end: sim + perception + grounder + executor + simulated person + agent.

``run_scenario(scenario, config, run_dir) -> EpisodeResult`` builds a fresh TabletopEnv with the
scenario's scene, wires perception (with the scenario's faults), the grounder, an executor from
``EXECUTORS`` (``--policy``), and the simulated person (who answers every question and is the
interjection source), drives an :class:`agent.driver.AgentSession` to its end, then verifies the
person's INTENT against the simulator's true state (never the agent's own claim). Interjections
whose step the motion never reached are said afterwards as a new utterance ("no, the other one"
after a wrong guess). ``passed`` = the outcome matched ``expect`` (see :func:`judge`).

``run_all`` runs many; an exception in one episode is recorded as its ``error`` and the rest
still run (so is a worker process killed mid-episode: ``agent.worker_pool``). Under
``run_dir`` (default ``runs/<timestamp>-<id>/``, one per run: ``agent.run_folder``): ``report.json``,
``transcripts/<session>.jsonl``, ``checkpoints/<session>.sqlite`` (resumable with
``AgentSession(context, session, path)``) and, for spoken people, ``audio/<session>/*.wav``.
"""

from __future__ import annotations

import functools
import re
import time
import traceback
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Optional
from uuid import uuid4

import numpy as np

from agent.report import EpisodeResult, Report, build_report, error_result
from agent.run_folder import new_run_dir, safe_name
from agent.scenario import Fault, Scenario, ScenarioError
from agent.shared_models import SharedModels
from agent.simulated_user import HeardPerson, SimulatedUser
from agent.step_check import StepOrder, verify_steps
from perception.types import PerceivedObject, SceneObservation

#: Metres an object must move to count as disturbed (sim/success.py uses the same limit).
DISTURB_M = 0.02
#: Metres within which a perceived centroid is taken to be a true object (no sim_id given).
MATCH_RADIUS_M = 0.06


@dataclass(frozen=True)
class RunConfig:
    """How episodes are run (policy, image size, steps and consistency have CLI flags)."""

    # Executor (motion source) by name from EXECUTORS: "vla" = the learned PaliGemma policy from
    # ``policy_checkpoint`` (sees only camera + proprio + words, steered with the agent's
    # grounding), "expert" = the privileged scripted expert (reads sim poses; sim only).
    policy: str = "vla"
    # Checkpoint folder the "vla" executor loads (the committed embedded default).
    policy_checkpoint: str = str(Path(__file__).resolve().parent.parent / "checkpoints" / "vla")
    # ws://host:port of a `main.py serve` policy server: the "vla" executor asks it for chunks
    # instead of loading policy_checkpoint (agent/remote_runtime.py); None = in-process.
    policy_server: Optional[str] = None
    # The server's API key ("Authorization: Api-Key ..."), None when it needs none.
    policy_api_key: Optional[str] = None
    # Seconds the arm holds while the policy server is unreachable before the motion ends.
    policy_server_wait_s: float = 30.0
    # Rules of the "vla" executor and its runtime (agent/executor_rules.py, policy/inference/rules.py):
    # "all", "none" (the network alone, nothing around it) or comma-separated names.
    rules: str = "all"
    # Square camera resolution (pixels): small keeps rendering cheap (~22 ms at 64-96 px).
    image_size: int = 96
    # Square resolution (pixels) of the frame perception looks at, once per look (same camera):
    # 4 cm cubes read as cylinders 4% of the time at 96 px, never in 1,200 objects at 160 px.
    perception_size: int = 160
    # Most control steps (10 Hz) per motion before the agent gives up on it.
    max_control_steps: int = 400
    # Settle the physics this many control steps after the agent finishes, before verifying.
    settle_steps: int = 5
    # Most follow-up utterances (late interjections) after the agent finishes.
    max_follow_ups: int = 2
    # SigLIP words-vs-image check: "auto" = the project's trained checkpoint if present
    # (perception.siglip.DEFAULT_CHECKPOINT), "off" = none, else a checkpoint folder.
    consistency: str = "auto"
    # Conformal calibration of the prediction set: "auto" = perception.conformal.DEFAULT_CALIBRATION
    # if present, "off" = the grounder's own set, else a calibration JSON file.
    calibration: str = "auto"
    # Times a motion is tried again when the robot's own look afterwards says it missed.
    max_retries: int = 1
    # How perception groups pixels into objects, by name from SEGMENTERS: "depth" = depth +
    # colour only (perception/depth_segmentation.py, what a real arm's camera allows), "sim" =
    # the simulator's segmentation mask.
    segmenter: str = "sim"


# -- mapping perception to scene truth (privileged: the runner is the referee) ----------------


def true_id(obj: PerceivedObject, scene: SceneObservation, truth: dict[str, np.ndarray]) -> Optional[str]:
    """The scene object a perceived one really is: its sim label, else the nearest true centre
    within MATCH_RADIUS_M; None for a phantom (unlabelled where others are labelled)."""
    if obj.sim_id is not None:
        return obj.sim_id
    if any(o.sim_id is not None for o in scene.objects) or not truth:
        return None
    oid, pos = min(truth.items(), key=lambda kv: float(np.linalg.norm(kv[1][:2] - np.asarray(obj.position[:2]))))
    return oid if float(np.linalg.norm(pos[:2] - np.asarray(obj.position[:2]))) <= MATCH_RADIUS_M else None


# -- perception faults -------------------------------------------------------------------------


@dataclass
class FaultyPerception:
    """The agent's perceive function with the scenario's faults: the first look suffers every
    fault, later looks (re-perception) only the ``persist`` ones. Faults are applied to the
    camera frame by ``perceive(obs, faults)`` (perception/faults.py), so colour beliefs and
    SigLIP crops all see the same wrong picture. ``looks`` counts calls."""

    perceive: Callable[[dict[str, Any], list[Fault]], SceneObservation]
    faults: list[Fault]
    looks: int = 0

    def active(self) -> list[Fault]:
        return [f for f in self.faults if self.looks == 0 or f.persist]

    def __call__(self, obs: dict[str, Any]) -> SceneObservation:
        faults = self.active()
        self.looks += 1
        return self.perceive(obs, faults)


def _depth_segmenter() -> Any:
    from perception.depth_segmentation import DepthSegmenter

    return DepthSegmenter()


#: --segmenter name -> factory of the segmenter ``perception.proposals.perceive`` is given
#: (None: the simulator's mask).
SEGMENTERS: dict[str, Callable[[], Any]] = {"sim": lambda: None, "depth": _depth_segmenter}


# -- executors -------------------------------------------------


def _expert(env: Any, models: SharedModels) -> Any:
    from agent.executors import ExpertExecutor

    return ExpertExecutor(env)


def _vla(env: Any, models: SharedModels) -> Any:
    from agent.executor_rules import executor_kwargs, parse_rules
    from agent.vla_executor import VLAExecutor

    runtime_rules, around = parse_rules(models.config.rules)
    if models.config.policy_server:  # the same executor; the network calls go to `main.py serve`
        from agent.remote_runtime import RemoteRuntime

        if models.config.rules.strip() != "all" and runtime_rules.names:
            raise ValueError("--rules: with --policy-server the server runs its own runtime rules; "
                             "name only executor rules (steering, staging, step_back, release_ends, free_spot, homing, put_back), all or none")
        return VLAExecutor(RemoteRuntime(models.policy_client(), give_up_s=models.config.policy_server_wait_s),
                           **executor_kwargs(around))
    # checkpoint loaded once per run/worker
    return VLAExecutor.from_policy(models.policy(), rules=runtime_rules, **executor_kwargs(around))


#: --policy name -> factory(env, shared models) returning an agent Executor (agent/context.py protocol).
EXECUTORS: dict[str, Callable[[Any, SharedModels], Any]] = {"expert": _expert, "vla": _vla}


def world_exempting(env: Any, exempt: set[str]) -> Any:
    """The env's WorldState with ``exempt`` objects' starting positions set to where they are now,
    so moving them does not count as disturbing the table. Used for objects the robot picked in an
    EARLIER turn of the same episode (the person asked for them, then said "no, the other one")."""
    world = env.world_state()
    initial = {k: (world.positions[k] if k in exempt else v) for k, v in world.initial_positions.items()}
    return replace(world, initial_positions=initial)


def _truth(env: Any) -> dict[str, np.ndarray]:
    return {k: p.position for k, p in env.object_poses().items()}


# -- one episode ------------------------------------------------------------------------------


def judge(scenario: Scenario, success: bool, asked: int, moved: list[str]) -> bool:
    """Outcome matches expect: same success, questions within ``expect.ask``, and when success is
    NOT expected (absent object, person gave up, "stop") the robot must also have left the table
    alone: no object moved more than DISTURB_M."""
    if success != scenario.expect.success or not scenario.expect.ask_ok(asked):
        return False
    if not scenario.expect.success:
        return not moved  # physical truth; the agent may name a target it never touched ("stop")
    return True


def _verify(env: Any, scenario: Scenario, earlier_picks: set[str]) -> tuple[bool, str]:
    """Is the person's intent achieved? ``earlier_picks``: objects the robot picked in turns
    before the last one (exempt from the disturbance rule, see :func:`world_exempting`)."""
    from sim.success import check_success

    task = scenario.user.first.to_task()
    if task is None:
        return False, "nothing to achieve: the person asked for something absent"
    report = check_success(task, scenario.scene, world_exempting(env, earlier_picks - {task.pick}))
    return report.success, report.reason


@dataclass
class Episode:
    """Live objects of one running episode (built by :func:`build_episode`)."""

    env: Any
    session: Any
    user: SimulatedUser
    person: HeardPerson  # the user as the robot hears them (text or speech channel)
    perception: FaultyPerception
    transcript_path: Path
    session_id: str
    order: StepOrder


def build_episode(scenario: Scenario, config: RunConfig, run_dir: Path, seed: int = 0,
                  models: Optional[SharedModels] = None) -> Episode:
    """A fresh env with the scene, the person, and an AgentSession wired to them."""
    from agent.context import AgentContext, AgentSettings
    from agent.driver import AgentSession
    from agent.transcript import TranscriptWriter
    from perception.grounding import Grounder
    from perception.proposals import perceive
    from sim.tabletop_env import TabletopEnv

    if config.policy not in EXECUTORS:
        raise KeyError(f"unknown --policy {config.policy!r}; known: {sorted(EXECUTORS)}")
    if config.segmenter not in SEGMENTERS:
        raise KeyError(f"unknown --segmenter {config.segmenter!r}; known: {sorted(SEGMENTERS)}")
    segmenter = SEGMENTERS[config.segmenter]()
    env = TabletopEnv(image_size=config.image_size, max_episode_steps=config.max_control_steps,
                      detail_size=config.perception_size)
    try:
        # No task for an absent object: the env then samples one, which nobody checks.
        env.reset(seed=seed, options={"scene": scenario.scene, "task": scenario.user.first.to_task()})
    except Exception:
        env.close()
        raise
    user = SimulatedUser(scenario.user, scenario.scene, seed=seed)
    labels = env.arm.segmentation_labels  # segmentation value -> scene id: faults + metrics only
    perception = FaultyPerception(
        lambda obs, faults: perceive(obs, viewpoint=scenario.scene.viewpoint, faults=faults, labels=labels,
                                     segmenter=segmenter),
        list(scenario.faults))
    session_id = f"{safe_name(scenario.name)}-{uuid4().hex[:8]}"  # a path component: names can say "../"
    transcript_path = run_dir / "transcripts" / f"{session_id}.jsonl"
    models = models or SharedModels(config)
    order = StepOrder([], user)
    person = HeardPerson(user, models.hearing(scenario.user.channel, seed, run_dir / "audio" / session_id,
                                                voice=scenario.user.voice, snr_db=scenario.user.snr_db))
    context = AgentContext(
        arm=env.arm, perceive=perception, grounder=Grounder(), executor=EXECUTORS[config.policy](env, models),
        transcript=TranscriptWriter(session_id, transcript_path,
                                    on_event=_watch(user, (lambda: order.note(env, scenario)) if scenario.user.multi else None)),
        settings=AgentSettings(max_control_steps=config.max_control_steps, max_retries=config.max_retries),
        interjections=person, consistency=models.consistency(),
        calibration=models.calibration(),
    )
    # One SQLite file per session: parallel workers never contend for a database lock.
    session = AgentSession(context, session_id, str(run_dir / "checkpoints" / f"{session_id}.sqlite"))
    return Episode(env, session, user, person, perception, transcript_path, session_id, order)


def _watch(user: SimulatedUser, after_look: Optional[Callable[[], None]] = None) -> Callable[[Any], None]:
    """Transcript hook: the person sees which object the robot announces it goes for (the
    ``sim_id`` act writes with "I'll pick up ..."; a put-back's announcement is not a new target);
    ``after_look`` runs after each motion the agent judged with its own look (its ``own_check``)."""

    def on_event(event: Any) -> None:
        if event.kind == "own_check" and after_look is not None:
            after_look()
        if event.kind == "say" and "sim_id" in event.data and "return_to" not in event.data:
            user.watching = event.data["sim_id"]
            user.watching_place = event.data.get("place_sim_id")

    return on_event


def answer_question(episode: Episode, question: Any) -> str:
    """The simulated person's reply to a driver Question (its candidates mapped to scene truth)."""
    truth = _truth(episode.env)
    options = list(getattr(question, "candidates", []) or [])
    scene = SceneObservation(objects=[o for o in options if isinstance(o, PerceivedObject)])
    ids = [true_id(o, scene, truth) if isinstance(o, PerceivedObject) else o for o in options]
    return episode.user.answer(question.text, ids, yes_no=getattr(question, "yes_no", None),
                               about=getattr(question, "about", None))


@functools.lru_cache(maxsize=2)
def _worker_models(config: RunConfig) -> SharedModels:
    """One SharedModels per worker process and config, so a worker loads SigLIP/whisper once."""
    return SharedModels(config)


def _run_in_worker(scenario: Scenario, config: RunConfig, run_dir: Path, seed: int) -> EpisodeResult:
    return run_scenario(scenario, config, run_dir, seed, models=_worker_models(config))


def run_scenario(scenario: Scenario, config: RunConfig, run_dir: Path, seed: int = 0,
                 on_line: Optional[Callable[[str, str], None]] = None, models: Optional[SharedModels] = None) -> EpisodeResult:
    """Run one scenario; never raises (an exception becomes the result's ``error``).
    ``on_line(who, text)`` sees every dialogue line as it happens (demo printing); ``models``:
    loaded once per run (else per episode). The person's words reach the agent through their
    channel; what they said and what was heard both go to ``on_line`` when they differ."""
    from agent.driver import Question

    say = on_line or (lambda who, text: None)
    start = time.perf_counter()
    episode: Optional[Episode] = None
    finished: list[Any] = []  # one Finished per instruction (the first, then follow-ups)
    try:
        episode = build_episode(scenario, config, run_dir, seed, models)
        hear = episode.person.hear

        def spoken(text: str) -> str:
            heard = hear(text)
            same = re.findall(r"[a-z0-9']+", heard.lower()) == re.findall(r"[a-z0-9']+", text.lower())
            say("user", text if same else f"{text}  [heard: {heard}]")
            return heard

        turn = episode.session.start(spoken(scenario.instruction))
        for _ in range(1 + config.max_follow_ups):
            while isinstance(turn, Question):
                say("robot", turn.text + (f"  [picture: {turn.image}]" if getattr(turn, "image", None) else ""))
                episode.person.robot_says(turn.text)
                turn = episode.session.resume(spoken(answer_question(episode, turn)))
            finished.append(turn)
            say("robot", getattr(turn, "message", ""))
            late = episode.user.poll(10**9)  # an interjection the motion never reached
            if late is None:
                break
            turn = episode.session.start(spoken(late))
        for _ in range(config.settle_steps):
            episode.env.arm.hold()
        # No exemption for objects picked in earlier turns: a wrong pick the person corrected
        # must have been put back (within DISTURB_M) for the episode to succeed.
        if scenario.user.multi:
            success, reason, done = verify_steps(episode.env, scenario, episode.order)
        else:
            success, reason = _verify(episode.env, scenario, set())
            done = int(success)
        return _result(scenario, episode, finished, success, reason, time.perf_counter() - start, done)
    except Exception as exc:  # one broken episode must not stop the run
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        return EpisodeResult(name=scenario.name, passed=False, success=False, error=detail,
                             duration_s=round(time.perf_counter() - start, 3), expect=scenario.expect,
                             source=scenario.source, session_id=episode.session_id if episode else None,
                             family=scenario.family)
    finally:
        if episode is not None:
            episode.session.close()
            episode.env.close()


def _result(scenario: Scenario, ep: Episode, finished: list[Any], success: bool, reason: str, duration: float,
            steps_done: int) -> EpisodeResult:
    """Report row; questions, re-perceptions and steps add up over the instruction and follow-ups."""
    truth = _truth(ep.env)
    initial = ep.env.world_state().initial_positions
    moved = sorted(k for k, p in truth.items() if float(np.linalg.norm(p - initial[k])) > DISTURB_M)
    acted = [f.acted_on for f in finished if f.acted_on is not None]
    acted_on = acted[-1] if acted else None
    asked = sum(f.asked for f in finished)
    intended = {i.pick for i in scenario.user.intents}
    last = finished[-1] if finished else None
    return EpisodeResult(
        name=scenario.name, success=success, asked=asked,
        passed=judge(scenario, success, asked, moved),
        questions=[q for f in finished for q in f.questions],
        reperceptions=sum(f.reperceptions for f in finished), retries=sum(f.retries for f in finished), steps=sum(f.steps for f in finished),
        self_check_disagreements=sum(f.self_check_disagreements for f in finished),
        duration_s=round(duration, 3), expect=scenario.expect, status=last.status if last else None,
        acted_on=acted_on, acted_on_intended=None if acted_on is None else acted_on in intended,
        verdict=last.success if last is not None and last.status in ("success", "failed") else None,
        moved=moved, answers=[x.answer for x in ep.user.exchanges],
        message=f"{' / '.join(f.message for f in finished)} [verify: {reason}]".strip(),
        session_id=ep.session_id, transcript=str(ep.transcript_path), source=scenario.source, family=scenario.family,
        steps_done=steps_done, steps_total=len(scenario.user.intents),
    )


def default_run_dir(root: str | Path = "runs") -> Path:
    """A new folder ``root/<timestamp>-<6 hex>`` that no other run shares (created here)."""
    return new_run_dir(root)


def run_all(scenarios: list[Scenario], errors: list[ScenarioError], config: RunConfig,
            run_dir: Optional[Path] = None, progress: bool = False, workers: int = 1, ray_address: Optional[str] = None,
            on_line: Optional[Callable[[str, str], None]] = None,
            on_result: Optional[Callable[[Scenario, EpisodeResult], None]] = None) -> Report:
    """Run every scenario (seeded by position) and write ``run_dir/report.json``; malformed
    scenarios are reported with their error. ``workers`` > 1 runs episodes in that many
    processes (each episode owns its physics client; a worker that dies is reported as its
    episode's error and replaced), ``ray_address`` as Ray tasks (``agent/ray_pool.py``);
    ``on_line`` then sees nothing."""
    run_dir = run_dir or default_run_dir()
    run_dir.mkdir(parents=True, exist_ok=True)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(scenarios), desc="episodes", unit="ep")
    results: list[Optional[EpisodeResult]] = [None] * len(scenarios)

    def done(i: int, result: EpisodeResult) -> None:
        results[i] = result
        if bar is not None:
            bar.update(1)
        if on_result is not None:
            on_result(scenarios[i], result)

    def lost(i: int, why: str) -> None:
        s = scenarios[i]
        done(i, EpisodeResult(name=s.name, passed=False, success=False, error=why, expect=s.expect, source=s.source))

    if ray_address is not None:  # one Ray task per episode (agent/ray_pool.py)
        from agent.ray_pool import run_on_ray

        run_on_ray(_run_in_worker, scenarios, (config, run_dir), ray_address, done, lost)
    elif workers > 1 and len(scenarios) > 1:
        from agent.worker_pool import run_in_workers

        # Spawned children start clean (no inherited physics clients or torch thread pools); a
        # worker that dies costs only the episode it was running (reported with the error).
        run_in_workers(_run_in_worker, scenarios, (config, run_dir), workers, done, lost)
    else:
        models = SharedModels(config)  # loaded once for the whole run
        for i, scenario in enumerate(scenarios):
            done(i, run_scenario(scenario, config, run_dir, seed=i, on_line=on_line, models=models))
    if bar is not None:
        bar.close()
    report = build_report([error_result(e) for e in errors] + [r for r in results if r is not None])
    report.write(run_dir / "report.json")
    return report
