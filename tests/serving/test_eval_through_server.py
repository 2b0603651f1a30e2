"""`main.py eval --policy-server`: the same episodes as `eval --checkpoint`, the policy served."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from agent.commands import evaluate
from serving.policy_backend import RuntimeBackend
from tests.serving.conftest import start_server

CHECKPOINT = Path(__file__).resolve().parents[2] / "checkpoints" / "vla"


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    evaluate.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_eval_needs_a_checkpoint_or_a_server():
    with pytest.raises(SystemExit, match="--checkpoint DIR or --policy-server"):
        evaluate.run(_args("--episodes", "1"))


def test_eval_against_no_server_fails_in_one_line():
    from serving.client import PolicyServerDown

    with pytest.raises(PolicyServerDown, match="unreachable"):
        evaluate.run(_args("--policy-server", "ws://127.0.0.1:9", "--episodes", "1"))


@pytest.mark.slow
def test_served_eval_matches_in_process_eval_episode_for_episode(tmp_path):
    common = ["--episodes", "2", "--start", "5000", "--max-steps", "24", "--steer", "truth", "--hold-lost", ""]
    evaluate.run(_args("--checkpoint", str(CHECKPOINT), "--report", str(tmp_path / "local.json"), *common))
    server = start_server(RuntimeBackend.from_checkpoint(str(CHECKPOINT)), api_key="k")
    try:
        evaluate.run(_args("--policy-server", server.uri, "--api-key", "k", "--report", str(tmp_path / "remote.json"),
                           *common))
    finally:
        server.stop()
    local, remote = (json.loads((tmp_path / f"{n}.json").read_text())["per_episode"] for n in ("local", "remote"))
    keys = ("seed", "success", "steps", "target_checks", "first_reasoning", "phase_gated", "retreat_chunks")
    assert [{k: e[k] for k in keys} for e in remote] == [{k: e[k] for k in keys} for e in local]
    for a, b in zip(remote, local):
        assert a["target_ious"] == pytest.approx(b["target_ious"], abs=1e-6)
