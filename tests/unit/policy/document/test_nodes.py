"""YAML nodes: syntax errors, shapes, duplicate and unknown keys, each at its line."""

from __future__ import annotations

import pytest
from yaml.nodes import MappingNode, Node

from cityshield.policy.document import parse_policy
from cityshield.policy.document.nodes import (
    NodeReader,
    as_int,
    compose,
    describe,
    is_null,
    is_str,
    line,
    quote_hint,
)
from cityshield.policy.document.parsed import ParsedFile
from tests.utils.policy_text import (
    doc,
    only_problem,
    problems_of,
)


def test_empty_and_non_mapping_files() -> None:
    assert only_problem("# nothing yet\n")[0] == 1
    line, message = only_problem("# a list, not a mapping\n- version: 1\n")
    assert line == 2 and "must be a mapping, got a list" in message


@pytest.mark.parametrize(
    ("text", "line", "expected"),
    [
        ("version: 1\ndefault_marking: [amber]\n", 2, "default_marking must be a TLP level"),
        ("version: 1\ngroups: [north]\n", 2, "groups must be a mapping, got a list"),
        ("version: 1\ngroups:\n  north: northport\n", 3, "must be a list such as [a, b]"),
        ("version: 1\nmembers:\n  a: {anonymous: 'yes'}\n", 3, "must be true or false"),
        ("version: 1\nmembers:\n  a: true\n", 3, "member 'a' must be a mapping"),
        ("version: 1\nrules: {name: x}\n", 2, "rules must be a list"),
        ("version: 1\nrules:\n  - just a string\n", 3, "rule #1 must be a mapping"),
        (
            "version: 1\nrules:\n  - name: r\n    markings: amber\n    deny: {members: [a]}\n",
            4,
            "markings of rule 'r' must be a list",
        ),
        (
            "version: 1\nrules:\n  - name: r\n    allow: {members: [a], everyone: 1}\n",
            4,
            "everyone in 'allow' of rule 'r' must be true or false, got an integer '1'",
        ),
        (
            "version: 1\nrules:\n  - name: r\n    from: [north]\n    allow: {everyone: true}\n",
            4,
            "'from' of rule 'r' must be a mapping",
        ),
        (
            "version: 1\nrules:\n  - name: r\n\n    allow:\n      members:\n        - 123\n",
            7,
            "member name must be a string, got an integer '123' (quote it: '123')",
        ),
    ],
)
def test_wrong_types(text: str, line: int, expected: str) -> None:
    found_line, message = only_problem(text)
    assert (found_line, expected in message) == (line, True), message


def test_unknown_keys() -> None:
    found = problems_of(
        """
        version: 1
        default_markings: amber
        members:
          lakeside: {anonymus: true}
        rules:
          - name: r
            deny: {members: [a], grups: [b]}
            when: always
        """
    )
    assert [line for line, _ in found] == [2, 4, 7, 8]
    assert "unknown key 'default_markings' in the policy" in found[0][1]
    assert "did you mean 'default_marking'?" in found[0][1]
    assert "unknown key 'anonymus' in member 'lakeside'" in found[1][1]
    assert "unknown key 'grups'" in found[2][1] and "did you mean 'groups'?" in found[2][1]
    assert "unknown key 'when' in rule #1" in found[3][1]


def test_duplicate_yaml_keys_are_errors_not_last_wins() -> None:
    line, message = only_problem("version: 1\ndefault_marking: red\ndefault_marking: clear\n")
    assert line == 3 and "duplicate key 'default_marking' (first at line 2)" in message


def test_yaml_syntax_error_reports_its_line() -> None:
    line, message = only_problem(
        """
        version: 1
        rules:
          - name: r
            deny: {members: [a]
          - name: s
        """
    )
    assert line == 5 and message.startswith("YAML syntax error")


def test_yaml_indentation_error_reports_its_line() -> None:
    line, message = only_problem("version: 1\ngroups:\n  a: [x]\n b: [y]\n")
    assert line == 4 and message.startswith("YAML syntax error")


def test_tabs_and_forbidden_characters_are_problems_not_crashes() -> None:
    assert only_problem("version: 1\n\tgroups: {}\n")[0] == 2
    assert only_problem("version: 1\ngroups: {a: [b\x07]}\n")[0] == 2


def test_anchors_and_aliases_are_plain_yaml() -> None:
    policy = parse_policy(
        doc(
            """
            version: 1
            groups:
              north: &north [northport, riverton]
              utilities: *north
            rules:
              - name: r
                from: &src {groups: [north]}
                deny: *src
            """
        )
    )
    assert policy.groups["utilities"] == policy.groups["north"]
    assert policy.rules[0].source == policy.rules[0].target


def composed(text: str) -> tuple[ParsedFile, Node]:
    out = ParsedFile("n.yaml")
    root = compose(doc(text), out)
    assert root is not None and out.errors == []
    return out, root


def test_compose_keeps_lines_and_what_yaml_made_of_each_scalar() -> None:
    _, root = composed(
        """
        a: 1
        b:
          - yes
          - "text"
        c:
        """
    )
    assert isinstance(root, MappingNode)
    (key_a, one), (key_b, items), (key_c, empty) = root.value
    yes, text = items.value
    assert [line(key_a), line(key_b), line(text), line(key_c)] == [1, 2, 4, 5]
    assert describe(root) == "a mapping" and describe(items) == "a list"
    assert describe(one) == "an integer '1'" and quote_hint(one) == " (quote it: '1')"
    assert describe(yes) == "a boolean 'yes'" and quote_hint(yes) == " (quote it: 'yes')"
    assert describe(text) == "a string 'text'" and quote_hint(text) == ""
    assert is_str(text) and not is_str(one) and not is_str(items)
    assert is_null(empty) and describe(empty) == "nothing (null)" and quote_hint(empty) == ""
    assert as_int(one) == 1 and as_int(text) is None


def test_describe_shortens_long_values() -> None:
    _, root = composed(f"k: {'x' * 60}\n")
    assert describe(root.value[0][1]) == f"a string '{'x' * 37}...'"


def test_compose_empty_text_is_none_and_no_problem() -> None:
    out = ParsedFile("n.yaml")
    assert compose("# only a comment\n", out) is None and out.errors == []


def test_compose_records_a_syntax_error_at_its_line() -> None:
    out = ParsedFile("n.yaml")
    assert compose("a: [1\nb: 2\n", out) is None
    (problem,) = out.errors
    assert (problem.path, problem.line) == ("n.yaml", 2)
    assert problem.message == (
        "YAML syntax error: expected ',' or ']', but got ':' "
        "(while parsing a flow sequence at line 1)"
    )


def test_node_reader_reports_each_wrong_shape_and_returns_none() -> None:
    out, root = composed(
        """
        map: {a: 1, 2: b, a: 3}
        list: x
        flag: 'true'
        switch: off
        on: 1
        flags: 2
        """
    )
    reader = NodeReader(out)
    top = reader.mapping(root, "the top", ("map", "list", "flag", "switch"))
    assert top is not None and list(top) == ["map", "list", "flag", "switch"]
    inner = reader.mapping(top["map"][1], "map", None)
    assert inner is not None and list(inner) == ["a"] and line(inner["a"][1]) == 1
    assert reader.sequence(top["list"][1], "list", "[a]") is None
    assert reader.boolean(top["flag"][1], "flag") is None
    assert reader.boolean(top["switch"][1], "switch") is False
    assert reader.mapping(top["list"][1], "list", None) is None
    assert [(p.line, p.message) for p in out.errors] == [
        (5, "keys in the top must be strings, got a boolean 'on' (quote it: 'on')"),
        (
            6,
            "unknown key 'flags' in the top; expected one of map, list, flag, switch; "
            "did you mean 'flag'?",
        ),
        (1, "keys in map must be strings, got an integer '2' (quote it: '2')"),
        (1, "duplicate key 'a' (first at line 1)"),
        (2, "list must be a list such as [a], got a string 'x'"),
        (3, "flag must be true or false, got a string 'true'"),
        (2, "list must be a mapping, got a string 'x'"),
    ]
