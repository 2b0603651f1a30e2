"""The executor-level rules: --rules all is the executor's defaults, none switches every part off."""

from __future__ import annotations

import inspect

import pytest

from agent.executor_rules import ALL_RULES, executor_kwargs, parse_rules
from agent.vla_executor import VLAExecutor
from policy.inference.rules import RULES, RuleSet


def test_all_rules_are_the_executors_and_runtimes_defaults():
    runtime_rules, around = parse_rules("all")
    assert runtime_rules == RuleSet.all()
    defaults = {k: p.default for k, p in inspect.signature(VLAExecutor.__init__).parameters.items()
                if k in executor_kwargs(around)}
    assert executor_kwargs(around) == defaults


def test_none_switches_every_part_off():
    runtime_rules, around = parse_rules("none")
    assert runtime_rules.names == () and around.names == ()
    assert executor_kwargs(around) == {"steer": False, "snap_iou": None, "stage_close": False, "step_back": False,
                                       "step_back_home": False, "release_ends": False, "clear_margin": None, "home_m": None,
                                       "put_back": False, "free_spot": False}


def test_names_split_between_the_runtime_and_the_executor():
    runtime_rules, around = parse_rules("phase_gate,step_back")
    assert runtime_rules.names == ("phase_gate",) and around.names == ("step_back",)
    assert set(ALL_RULES) == set(RULES) | {"steering", "staging", "step_back", "release_ends", "free_spot",
                                                  "homing", "put_back"}
    with pytest.raises(ValueError, match="unknown rule 'homeing'"):
        parse_rules("homeing")


def test_the_episodes_command_refuses_an_unknown_rule_before_running(capsys):
    from main import main

    assert main(["episodes", "--suite", "unambiguous", "--seeds", "0", "--rules", "gate"]) == 1
    assert "unknown rule 'gate'" in capsys.readouterr().err
