"""`--ray`: episodes, eval and collect fanned out over a local Ray instance give what the
process pool / the one-process loop give, episode for episode (seeds 10000-10003, suite block
new for this test)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pytest

from agent.ray_pool import ROOT, add_ray_argument, require_ray
from agent.runner import RunConfig, run_all
from agent.suites import make_suite

EXPERT = RunConfig(policy="expert", consistency="off")
KEYS = ("name", "passed", "success", "asked", "questions", "reperceptions", "steps", "error", "acted_on", "moved")


def test_the_flag_alone_means_a_local_instance():
    parser = argparse.ArgumentParser()
    add_ray_argument(parser)
    assert parser.parse_args([]).ray is None
    assert parser.parse_args(["--ray"]).ray == "local"
    assert parser.parse_args(["--ray", "ray://head:10001"]).ray == "ray://head:10001"


def test_without_ray_installed_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    with pytest.raises(ImportError, match="requirements-ray.txt"):
        require_ray()


@pytest.fixture(scope="module")
def local_ray():
    ray = pytest.importorskip("ray", reason="ray is an optional extra (requirements-ray.txt)")
    ray.init(include_dashboard=False, log_to_driver=False, num_cpus=2,
             runtime_env={"env_vars": {"PYTHONPATH": str(ROOT)}})
    yield ray
    ray.shutdown()


@pytest.mark.slow
def test_episodes_on_ray_match_the_process_pool(tmp_path, local_ray):
    scenarios = make_suite("ambiguous", range(10000, 10002)) + make_suite("relations", range(10000, 10002))
    pool = run_all(scenarios, [], EXPERT, tmp_path / "pool", workers=2)
    on_ray = run_all(scenarios, [], EXPERT, tmp_path / "ray", ray_address="auto")
    rows = lambda report: [{k: getattr(e, k) for k in KEYS} for e in report.episodes]  # noqa: E731
    assert rows(on_ray) == rows(pool)
    timing = {"mean_duration_s"}
    assert on_ray.summary.model_dump(exclude=timing) == pool.summary.model_dump(exclude=timing)
    assert pool.summary.errors == 0


@pytest.mark.slow
def test_collect_on_ray_writes_the_same_demonstrations(tmp_path, local_ray):
    import pyarrow.parquet as pq

    from main import main

    common = ["collect", "--episodes", "2", "--start", "5000", "--max-steps", "120"]
    assert main([*common, "--out", str(tmp_path / "local")]) == 0
    assert main([*common, "--out", str(tmp_path / "ray"), "--ray", "auto"]) == 0
    local, remote = (sorted((tmp_path / n).glob("*.parquet")) for n in ("local", "ray"))
    assert [p.name for p in local] == [p.name for p in remote] and local
    for a, b in zip(local, remote):
        assert pq.read_table(a).equals(pq.read_table(b))


@pytest.mark.slow
def test_eval_on_ray_matches_the_one_process_loop(tmp_path, local_ray):
    from main import main

    checkpoint = str(Path(ROOT) / "checkpoints" / "vla")
    common = ["eval", "--checkpoint", checkpoint, "--episodes", "2", "--start", "5000", "--max-steps", "16",
              "--steer", "truth"]
    assert main([*common, "--report", str(tmp_path / "local.json")]) == 0
    assert main([*common, "--report", str(tmp_path / "ray.json"), "--ray", "auto"]) == 0
    local, remote = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("local", "ray"))
    drop = ("policy_s",)
    assert [{k: v for k, v in e.items() if k not in drop} for e in remote["per_episode"]] == \
        [{k: v for k, v in e.items() if k not in drop} for e in local["per_episode"]]
    assert remote["success_rate"] == local["success_rate"]
