"""Runtime rules as named parts: parsing --rules and editing a set."""

from __future__ import annotations

import pytest

from policy.inference.rules import RULES, Holds, Namer, RuleSet


def test_all_none_and_names_parse():
    assert RuleSet.parse("all").names == tuple(RULES)
    assert RuleSet.parse("none").names == ()
    assert RuleSet.parse("phase_gate, box_pointing").names == ("box_pointing", "phase_gate")


def test_an_unknown_rule_is_refused_naming_the_valid_ones():
    with pytest.raises(ValueError, match="unknown rule 'gate'.*phase_gate"):
        RuleSet.parse("box_pointing,gate")


def test_steered_rules_switch_off_the_namer_and_the_lost_box_hold():
    steered = RuleSet.all().steered()
    assert not steered.on("namer")
    assert steered.get("holds") == Holds(lost=())
    assert RuleSet.none().steered().names == ()


def test_renaming_and_viewpoint_edit_one_rule_only():
    assert RuleSet.all().renaming("first").get("namer") == Namer(mode="first")
    assert not RuleSet.all().renaming("off").on("namer")
    assert RuleSet.all().seeing_from("robot").get("side_words").viewpoint == "robot"
    assert not RuleSet.none().seeing_from("robot").on("side_words")  # off stays off
    with pytest.raises(ValueError):
        Namer(mode="sometimes")


def test_a_rules_config_is_edited_from_the_command_line():
    from policy.inference.rules import ReleaseRetreat

    rules = RuleSet.parse("all,release_retreat.rise_m=0.05,holds.place=in+on,holds.lost=,namer.refine_min_iou=none")
    assert rules.get("release_retreat") == ReleaseRetreat(rise_m=0.05)
    assert rules.get("holds") == Holds(lost=(), place=("in", "on"))
    assert rules.get("namer").refine_min_iou is None
    assert rules.names == RuleSet.all().names  # an edit keeps the rule in its place
    with pytest.raises(ValueError, match="no field 'height'.*rise_m"):
        RuleSet.parse("all,release_retreat.height=0.1")
    with pytest.raises(ValueError, match="not switched on"):
        RuleSet.parse("box_pointing,tracking.iou=0.3")
