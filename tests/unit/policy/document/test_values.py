"""Member and group names and TLP levels, each error at its line."""

from __future__ import annotations

import pytest

from cityshield.policy.document import WARNING_PREFIX, parse_policy
from cityshield.policy.document.nodes import compose
from cityshield.policy.document.parsed import ParsedFile, Ref
from cityshield.policy.document.values import ValueReader
from tests.utils.policy_text import (
    doc,
    only_problem,
)


def test_white_is_clear() -> None:
    policy = parse_policy(
        doc(
            """
            version: 1
            default_marking: white
            rules:
              - name: r
                markings: [white, red]
                deny: {members: [x]}
            """
        )
    )
    assert policy.default_marking == "clear"
    assert policy.rules[0].markings == frozenset({"clear", "red"})


def test_unknown_level() -> None:
    line, message = only_problem(
        """
        version: 1
        rules:
          - name: r
            markings:
              - amber
              - orange
            deny: {members: [a]}
        """
    )
    assert line == 6 and "unknown TLP level 'orange'" in message


@pytest.mark.parametrize(("written", "hint"), [("AMBER", "amber"), ("TLP:RED", "red")])
def test_unknown_level_hints_at_the_lower_case_name(written: str, hint: str) -> None:
    line, message = only_problem(f"version: 1\ndefault_marking: {written}\n")
    assert line == 2 and f"write it as '{hint}'" in message


@pytest.mark.parametrize("bad", ["-lead", "has space", "a/b", "ünï", "x" * 101, "a:b"])
def test_bad_name_characters(bad: str) -> None:
    line, message = only_problem(
        f"""
        version: 1
        groups:
          ok: [fine]
        rules:
          - name: r
            allow: {{members: [fine, "{bad}"]}}
        """
    )
    assert line == 6 and "invalid member name" in message


def test_bad_group_name_as_key() -> None:
    line, message = only_problem("version: 1\ngroups:\n  'no good': [a]\n")
    assert line == 3 and "invalid group name 'no good'" in message


def test_value_reader_names_levels_and_the_references_it_remembers() -> None:
    out = ParsedFile("v.yaml")
    root = compose("good: [a, b, a]\nbad: [ok, 'no good', 7]\nlevels: [white, RED, 3]\n", out)
    assert root is not None
    good, bad, levels = (value for _, value in root.value)
    reader = ValueReader(out)
    assert reader.names(good, "good", "member") == {"a", "b"}
    assert reader.names(bad, "bad", "group") is None
    assert [reader.level(item, "levels") for item in levels.value] == ["clear", None, None]
    assert out.refs == [
        Ref("member", "a", 1),
        Ref("member", "b", 1),
        Ref("member", "a", 1),
        Ref("group", "ok", 2),
    ]
    assert [(p.line, p.message) for p in out.warnings] == [
        (1, WARNING_PREFIX + "member 'a' listed twice in good (line 1)")
    ]
    expected = [
        (2, "invalid group name 'no good': use letters"),
        (2, "group name must be a string, got an integer '7' (quote it: '7')"),
        (3, "unknown TLP level 'RED' in levels; expected one of clear, green, amber, "),
        (3, "levels must be a TLP level, got an integer '3'"),
    ]
    assert len(out.errors) == len(expected)
    for problem, (at, start) in zip(out.errors, expected, strict=True):
        assert problem.line == at and problem.message.startswith(start), problem
    assert out.errors[2].message.endswith("(or white, read as clear); write it as 'red'")
