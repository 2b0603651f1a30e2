"""`main.py eval --steer perception`: the policy is steered with what the agent's own perception
and grounder choose from the first frame (no sim truth), and the report says how often that
choice was one object and the right one."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from main import main

CHECKPOINT = Path(__file__).resolve().parents[2] / "checkpoints" / "vla"


def test_eval_steered_by_perception_reports_the_agents_grounding(tmp_path: Path) -> None:
    out = tmp_path / "eval.json"
    code = main(["eval", "--checkpoint", str(CHECKPOINT), "--episodes", "3", "--steer", "perception",
                 "--max-steps", "24", "--report", str(out)])
    report = json.loads(out.read_text())

    assert code == 0
    assert report["grounding"] == {"episodes": 3, "grounded": 3, "ambiguous": 0, "nothing": 0, "right": 3}
    for episode in report["per_episode"]:
        grounding = episode["grounding"]
        boxes = [grounding["pick"]] + ([grounding["place"]] if episode["task"] != "pick" else [])
        assert all(b is not None and 0.0 <= b[0] < b[2] <= 1.0 and 0.0 <= b[1] < b[3] <= 1.0 for b in boxes)


def test_eval_alone_has_no_grounding_section(tmp_path: Path) -> None:
    out = tmp_path / "eval.json"
    main(["eval", "--checkpoint", str(CHECKPOINT), "--episodes", "1", "--max-steps", "8", "--report", str(out)])
    report = json.loads(out.read_text())
    assert "grounding" not in report and report["per_episode"][0]["grounding"] is None
    episode = report["per_episode"][0]
    # Each scored reasoning call says where the episode stood: the first is at step 0, hand open,
    # target on the table.
    assert len(episode["target_calls"]) == len(episode["target_checks"]) >= 1
    assert episode["target_calls"][0] == {"step": 0, "gripper_closed": False, "target_raised_m": 0.0}


@pytest.mark.slow
def test_eval_loop_agent_runs_the_episodes_as_the_agent_and_scores_its_verdicts(tmp_path: Path) -> None:
    """`eval --loop agent` runs the sampled episode through AgentSession (the episodes path); the
    agent ends it with its own verdict, which the report sets against the simulator's."""
    out = tmp_path / "eval.json"
    code = main(["eval", "--checkpoint", str(CHECKPOINT), "--loop", "agent", "--episodes", "1", "--kinds", "pick",
                 "--max-steps", "60", "--retries", "0", "--run-dir", str(tmp_path / "run"), "--report", str(out)])
    report = json.loads(out.read_text())
    assert code == 0 and report["loop"] == "agent" and report["episodes"] == 1
    (row,) = report["per_episode"]
    assert row["error"] is None and row["family"] == "pick" and row["seed"] == 1
    assert row["verdict"] is not None and sum(report["verdicts"].values()) == 1
    assert report["verdict_accuracy"] == float(row["verdict"] == row["success"])


def test_an_eval_episode_becomes_the_scenario_the_agent_runs() -> None:
    """The canonical instruction, the person's intent = the task, any number of questions."""
    from agent.commands.collect import sample_episode
    from agent.commands.eval_agent import scenario_of

    spec = sample_episode(46, 93, "place_in", 4, 0.25)
    scenario = scenario_of(spec)
    intent = scenario.user.intent
    assert (intent.pick, intent.place, intent.relation) == (spec.task.pick, spec.task.place, "in")
    assert scenario.family == "place_in" and scenario.expect.success and scenario.expect.ask_ok(2)
    assert scenario.scene == spec.scene and scenario.user.replies == []


def test_eval_retries_are_the_agents_own(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="add --loop agent"):
        main(["eval", "--checkpoint", str(CHECKPOINT), "--episodes", "1", "--retries", "1"])


@pytest.mark.regression
def test_the_evals_clarified_place_grounds_to_the_bowl_the_task_names() -> None:
    """Named regression, development seed 93 of `main.py eval` (episode 46) puts a white cylinder
    in one of two black bowls. With the
    eval's clarifying answer read for the place, the agent's perception and grounder choose the
    task's bowl; read as an answer about the pick it is still two bowls."""
    from agent.commands.collect import sample_episode
    from agent.commands.evaluate import perceived_target
    from policy.training.instructions import TaskWords, eval_exchanges, eval_prompt
    from sim.tabletop_env import TabletopEnv

    spec = sample_episode(46, 93, "place_in", 4, 0.25)
    words = TaskWords(pick=spec.task.pick, place=spec.task.place, relation=spec.task.relation)
    instruction, dialogue = eval_prompt(spec.scene, words)
    slots = [e.slot for e in eval_exchanges(spec.scene, words)]
    assert slots == ["place"]
    env = TabletopEnv(image_size=96, n_objects=4)
    try:
        env.reset(seed=spec.seed, options={"scene": spec.scene, "task": spec.task})
        status, _, pick, place = perceived_target(env, instruction, dialogue, slots=slots)
        assert status == "grounded" and (pick.sim_id, place.sim_id) == (spec.task.pick, spec.task.place)
        assert perceived_target(env, instruction, dialogue)[0] == "ambiguous"
    finally:
        env.close()


def test_eval_can_start_at_a_later_block_of_held_out_seeds(tmp_path: Path) -> None:
    out = tmp_path / "eval.json"
    main(["eval", "--checkpoint", str(CHECKPOINT), "--start", "46", "--episodes", "1", "--max-steps", "8",
          "--report", str(out)])
    episode = json.loads(out.read_text())["per_episode"][0]
    assert (episode["episode"], episode["seed"], episode["task"]) == (46, 93, "place_in")
    assert episode["dialogue"] == [["the left or the right one?", "the left one"]]  # its two black bowls


def test_eval_loop_agent_runs_with_the_rules_asked_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`--rules` reaches the agent's executor: an ablation of the agent's loop is not silently `all`."""
    import agent.runner
    from agent.commands.collect import sample_episode
    from agent.commands.eval_agent import run_agent_loop
    from agent.report import build_report

    seen = {}

    def run_all(scenarios, files, config, run_dir, **kwargs):
        seen["rules"] = config.rules
        return build_report([])

    monkeypatch.setattr(agent.runner, "run_all", run_all)
    args = argparse.Namespace(checkpoint=CHECKPOINT, segmenter="sim", retries=None, max_steps=None, workers=1,
                              run_dir=str(tmp_path / "run"), rules="steering,step_back", ray=None)
    run_agent_loop(args, [sample_episode(0, 1, "pick", 4, 0.25)])
    assert seen["rules"] == "steering,step_back"
