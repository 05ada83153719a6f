"""The parsed policy: defaults, immutability, what equality ignores."""

from __future__ import annotations

import pytest

from cityshield.policy.document import DEFAULT_POLICY, TLP_LEVELS, Rule, Selector, parse_policy
from cityshield.policy.document.model import rule_name_key
from tests.utils.policy_text import (
    EXAMPLE,
)


def test_minimal_policy_and_defaults() -> None:
    policy = parse_policy("version: 1\n")
    assert policy == DEFAULT_POLICY
    assert policy.source == "<policy>" and DEFAULT_POLICY.source == "<default>"
    assert DEFAULT_POLICY.default_marking == "amber" and DEFAULT_POLICY.rules == ()
    assert TLP_LEVELS == ("clear", "green", "amber", "amber+strict", "red")


def test_policy_is_immutable_and_hashable() -> None:
    policy = parse_policy(EXAMPLE.read_text())
    with pytest.raises(AttributeError):
        policy.default_marking = "red"  # type: ignore[misc]
    assert hash(policy) == hash(parse_policy(EXAMPLE.read_text(), path="elsewhere"))


def test_selector_is_empty_only_when_it_selects_nobody() -> None:
    assert Selector().is_empty
    assert not Selector(members=frozenset({"a"})).is_empty
    assert not Selector(groups=frozenset({"g"})).is_empty
    assert not Selector(everyone=True).is_empty


def test_rule_equality_ignores_where_it_was_written() -> None:
    target = Selector(frozenset({"a"}))
    here = Rule("r", None, None, "deny", target, line=3, path="a.yaml")
    there = Rule("r", None, None, "deny", target, line=9, path="b.yaml")
    assert here == there and hash(here) == hash(there)
    assert here != Rule("r", None, None, "allow", target)


def test_rule_name_key_folds_case_and_spacing_only() -> None:
    assert rule_name_key("  Block\tSouthbay ") == rule_name_key("block southbay")
    assert rule_name_key("block south bay") != rule_name_key("block southbay")
