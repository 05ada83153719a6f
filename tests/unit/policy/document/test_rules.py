"""Rules: names, selectors, effects and markings, each error at its line."""

from __future__ import annotations

from cityshield.policy.document import Rule, Selector, parse_policy
from cityshield.policy.document.reader import read_text
from tests.utils.policy_text import (
    doc,
    only_problem,
    problems_of,
)


def test_full_rule_shapes() -> None:
    policy = parse_policy(
        doc(
            """
            version: 1
            default_marking: amber+strict
            groups:
              empty:
              utilities: []
            members:
              northport:
              lakeside: {anonymous: yes}
            rules:
              - name: everyone sees GREEN-ish
                markings: [clear, green, amber]
                allow:
                  everyone: true
              - name: deny a group
                from: {members: [a], groups: [g]}
                deny: {groups: [south], members: [b]}
            """
        )
    )
    assert policy.default_marking == "amber+strict"
    assert policy.groups == {"empty": frozenset(), "utilities": frozenset()}
    assert policy.anonymous_members == frozenset({"lakeside"})
    first, second = policy.rules
    assert first == Rule(
        "everyone sees GREEN-ish",
        None,
        frozenset({"clear", "green", "amber"}),
        "allow",
        Selector(frozenset(), frozenset(), everyone=True),
        line=10,
    )
    assert first.line == 10 and second.line == 14
    assert second.source == Selector(frozenset({"a"}), frozenset({"g"}))
    assert second.target == Selector(frozenset({"b"}), frozenset({"south"}))
    assert second.markings is None and second.effect == "deny"


def test_both_allow_and_deny() -> None:
    line, message = only_problem(
        """
        version: 1
        rules:
          - name: r
            allow: {members: [a]}
            deny: {members: [b]}
        """
    )
    assert line == 5 and "both 'allow' and 'deny'" in message and "line 4" in message


def test_neither_allow_nor_deny() -> None:
    line, message = only_problem(
        """
        version: 1
        rules:
          - name: ok
            deny: {members: [b]}
          - name: r
            from: {members: [a]}
        """
    )
    assert line == 5 and "rule 'r' needs exactly one of 'allow' or 'deny'" in message


def test_missing_or_empty_name() -> None:
    found = problems_of(
        """
        version: 1
        rules:
          - deny: {members: [b]}
          - from: {members: [a]}
            name: "  "
            deny: {members: [b]}
        """
    )
    assert [line for line, _ in found] == [3, 5]
    assert "rule #1 has no 'name'" in found[0][1]
    assert "name of rule #2 must be non-empty text" in found[1][1]


def test_duplicate_name() -> None:
    line, message = only_problem(
        """
        version: 1
        rules:
          - name: Block southbay
            deny: {members: [southbay]}
          - name: block   southbay
            deny: {members: [southbay]}
        """
    )
    assert line == 5 and "duplicate rule name" in message and "line 3" in message


def test_everyone_in_deny() -> None:
    line, message = only_problem(
        """
        version: 1
        rules:
          - name: r
            deny:
              members: [a]
              everyone: true
        """
    )
    assert line == 6 and "'everyone' is not allowed in 'deny' of rule 'r'" in message


def test_everyone_in_from() -> None:
    line, message = only_problem(
        "version: 1\nrules:\n  - name: r\n    from: {everyone: true}\n    deny: {members: [a]}\n"
    )
    assert line == 4 and "omit 'from' to match any submitter" in message


def test_rule_name_must_be_one_line() -> None:
    line, message = only_problem(
        'version: 1\nrules:\n  - name: "one\\ttwo"\n    deny: {members: [a]}\n'
    )
    assert line == 3 and "the name of rule #1 must be a single line of text" in message


def test_a_rule_with_an_error_is_dropped_but_keeps_its_name() -> None:
    """Another rule reusing the name is still reported, and nothing half-read is applied."""
    part = read_text(
        doc(
            """
            version: 1
            rules:
              - name: good
                deny: {members: [a]}
              - name: broken
                markings: [orange]
                deny: {members: [a]}
              - name: Broken
                deny: {members: [b]}
            """
        ),
        "r.yaml",
    )
    assert [rule.name for rule in part.rules] == ["good"]
    assert [(p.line, p.message.split(" (")[0]) for p in part.errors] == [
        (
            6,
            "unknown TLP level 'orange' in markings of rule 'broken'; expected one of clear, "
            "green, amber, amber+strict, red",
        ),
        (8, "duplicate rule name 'Broken'"),
    ]
    assert "first used as 'broken' at line 5" in part.errors[1].message


def test_markings_listed_twice_is_a_warning() -> None:
    part = read_text(
        "version: 1\nrules:\n  - name: r\n    markings: [clear, white]\n    deny: {members: [a]}\n",
        "r.yaml",
    )
    assert part.errors == [] and part.rules[0].markings == frozenset({"clear"})
    (warning,) = part.warnings
    assert warning.line == 4 and "TLP level clear listed twice" in warning.message
