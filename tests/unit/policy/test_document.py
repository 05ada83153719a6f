"""Sharing-policy files: schema, line numbers, merging, linting and a parse round trip."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cityshield.errors import BadRequest
from cityshield.policy.document import (
    DEFAULT_POLICY,
    TLP_LEVELS,
    WARNING_PREFIX,
    PolicyDocument,
    PolicyError,
    PolicyProblem,
    Rule,
    Selector,
    check_policy_files,
    load_policies,
    load_policy,
    merge_policies,
    parse_policies,
    parse_policy,
)

EXAMPLE = Path(__file__).resolve().parents[3] / "policies" / "network.yaml"
DEMO_MEMBERS = {"northport", "riverton", "lakeside", "southbay", "soc-analyst", "hub-admin"}
DEMO_GROUPS = {"north", "south"}


def doc(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def problems_of(text: str) -> list[tuple[int, str]]:
    """(line, message) of every error in ``text``; fails if it parses."""
    with pytest.raises(PolicyError) as info:
        parse_policy(doc(text), path="p.yaml")
    assert all(p.path == "p.yaml" for p in info.value.problems)
    return [(p.line, p.message) for p in info.value.problems]


def only_problem(text: str) -> tuple[int, str]:
    found = problems_of(text)
    assert len(found) == 1, found
    return found[0]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(doc(text), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- the example


def test_example_policy_parses() -> None:
    policy = load_policy(EXAMPLE)
    assert policy.source == str(EXAMPLE)
    assert policy.default_marking == "amber"
    assert policy.groups == {"water-utility": frozenset({"northport", "lakeside"})}
    assert policy.anonymous_members == frozenset()
    share, never = policy.rules
    assert share.effect == "allow" and share.markings == frozenset({"amber"})
    assert share.source == Selector(frozenset(), frozenset({"north"}))
    assert share.target == Selector(frozenset(), frozenset({"water-utility"}))
    assert never.effect == "deny" and never.markings == frozenset({"amber"})
    assert never.source == Selector(frozenset({"northport"}), frozenset())
    assert never.target == Selector(frozenset({"southbay"}), frozenset())
    lines = EXAMPLE.read_text().splitlines()
    for rule in policy.rules:
        assert lines[rule.line - 1].strip() == f"- name: {rule.name}"
        assert rule.path == str(EXAMPLE)


def test_example_policy_lints_clean_against_the_demo_network() -> None:
    assert check_policy_files([EXAMPLE], known_members=DEMO_MEMBERS, known_groups=DEMO_GROUPS) == []


def test_example_turns_anonymous_on_by_flipping_one_value() -> None:
    text = EXAMPLE.read_text().replace("anonymous: false", "anonymous: true")
    assert parse_policy(text).anonymous_members == frozenset({"lakeside"})


def test_minimal_policy_and_defaults() -> None:
    policy = parse_policy("version: 1\n")
    assert policy == DEFAULT_POLICY
    assert policy.source == "<policy>" and DEFAULT_POLICY.source == "<default>"
    assert DEFAULT_POLICY.default_marking == "amber" and DEFAULT_POLICY.rules == ()
    assert TLP_LEVELS == ("clear", "green", "amber", "amber+strict", "red")


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


def test_policy_is_immutable_and_hashable() -> None:
    policy = parse_policy(EXAMPLE.read_text())
    with pytest.raises(AttributeError):
        policy.default_marking = "red"  # type: ignore[misc]
    assert hash(policy) == hash(parse_policy(EXAMPLE.read_text(), path="elsewhere"))


# --------------------------------------------------------------------------- schema errors


def test_version_missing() -> None:
    line, message = only_problem("default_marking: amber\n")
    assert line == 1 and "version" in message


def test_version_wrong_type() -> None:
    line, message = only_problem(
        """
        default_marking: amber
        version: "1"
        """
    )
    assert line == 2 and "version must be the number 1" in message and "'1'" in message


def test_other_version_stops_further_checks() -> None:
    """A version 2 file is not read as version 1: its keys would only produce noise."""
    line, message = only_problem(
        """
        # a newer format
        version: 2
        audiences: {}
        """
    )
    assert line == 2 and "unsupported policy version 2" in message


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


def test_all_problems_in_one_file_are_reported() -> None:
    found = problems_of(
        """
        version: 1
        default_marking: purple
        groups:
          north: [ok, "bad name"]
        rules:
          - name: one
            markings: [amber]
          - name: one
            allow: {members: [x]}
          - name: three
            allow: {members: [x]}
            deny: {members: [y]}
          - name: four
            deny: {everyone: true}
        """
    )
    assert [line for line, _ in found] == [2, 4, 6, 8, 12, 14]
    text = str(PolicyError([PolicyProblem("p.yaml", line, m) for line, m in found]))
    assert text.splitlines()[0].startswith("p.yaml:2: unknown TLP level 'purple'")


def test_policy_error_shape() -> None:
    with pytest.raises(PolicyError) as info:
        parse_policy("version: 1\ndefault_marking: 7\nrules: 3\n", path="net.yaml")
    error = info.value
    assert isinstance(error, BadRequest) and error.http_status == 400
    assert [(p.path, p.line) for p in error.problems] == [("net.yaml", 2), ("net.yaml", 3)]
    lines = str(error).splitlines()
    assert lines[0].startswith("net.yaml:2: ") and lines[1].startswith("net.yaml:3: ")
    assert error.description == str(error)


# --------------------------------------------------------------------------- YAML and files


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


def test_non_existent_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(PolicyError) as info:
        load_policy(missing)
    assert info.value.problems == [PolicyProblem(str(missing), 0, "policy file not found")]
    assert "nope.yaml" in str(info.value) and "not found" in str(info.value)


def test_unreadable_files_are_policy_errors(tmp_path: Path) -> None:
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"version: 1\n\xff\xfe\n")
    for path in (tmp_path, binary):
        with pytest.raises(PolicyError):
            load_policy(path)


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes("\ufeffversion: 1\ndefault_marking: red\n".encode())
    assert load_policy(path).default_marking == "red"


# --------------------------------------------------------------------------- merging


def test_merging_two_files(tmp_path: Path) -> None:
    first = write(
        tmp_path,
        "a.yaml",
        """
        version: 1
        default_marking: amber
        groups:
          water-utility: [northport]
        members:
          lakeside: {anonymous: true}
        rules:
          - name: a1
            allow: {members: [x]}
        """,
    )
    second = write(
        tmp_path,
        "b.yaml",
        """
        version: 1
        groups:
          water-utility: [lakeside]
          ports: [northport]
        members:
          southbay: {anonymous: true}
          lakeside: {anonymous: false}
        rules:
          - name: b1
            deny: {members: [y]}
          - name: b2
            allow: {groups: [ports]}
        """,
    )
    merged = load_policies([first, second])
    assert merged.default_marking == "amber"
    assert merged.groups == {
        "ports": frozenset({"northport"}),
        "water-utility": frozenset({"northport", "lakeside"}),
    }
    assert merged.anonymous_members == frozenset({"lakeside", "southbay"})
    assert [(r.name, r.path, r.line) for r in merged.rules] == [
        ("a1", str(first), 8),
        ("b1", str(second), 9),
        ("b2", str(second), 11),
    ]
    assert merged.source == f"{first}, {second}"
    assert load_policies([second, first]).rules[0].name == "b1"
    assert load_policies([]) == DEFAULT_POLICY
    assert load_policies([first]) == load_policy(first)
    # a file that leaves default_marking unset takes the other file's: no conflict
    third = write(tmp_path, "c.yaml", "version: 1\ndefault_marking: red\n")
    assert load_policies([second, third]).default_marking == "red"


def test_conflicting_default_marking(tmp_path: Path) -> None:
    first = write(tmp_path, "a.yaml", "version: 1\ndefault_marking: amber\n")
    second = write(tmp_path, "b.yaml", "version: 1\n\ndefault_marking: red\n")
    with pytest.raises(PolicyError) as info:
        load_policies([first, second])
    (problem,) = info.value.problems
    assert (problem.path, problem.line) == (str(second), 3)
    assert "conflicts with amber" in problem.message and f"{first}:2" in problem.message
    # white and clear are the same level: no conflict
    third = write(tmp_path, "c.yaml", "version: 1\ndefault_marking: white\n")
    fourth = write(tmp_path, "d.yaml", "version: 1\ndefault_marking: clear\n")
    assert load_policies([third, fourth]).default_marking == "clear"


def test_merge_reports_errors_of_every_file_and_reused_rule_names(tmp_path: Path) -> None:
    first = write(tmp_path, "a.yaml", "version: 1\nrules:\n  - name: r\n    deny: {members: [a]}\n")
    second = write(
        tmp_path, "b.yaml", "version: 1\nbogus: 1\nrules:\n  - name: R\n    deny: {members: [a]}\n"
    )
    with pytest.raises(PolicyError) as info:
        load_policies([first, second, tmp_path / "missing.yaml"])
    assert [(Path(p.path).name, p.line) for p in info.value.problems] == [
        ("b.yaml", 2),
        ("b.yaml", 4),
        ("missing.yaml", 0),
    ]
    assert f"{first}:3" in info.value.problems[1].message
    with pytest.raises(PolicyError, match="listed twice"):
        load_policies([first, first])


def test_merge_policies_of_parsed_documents() -> None:
    """For texts kept elsewhere (the hub stores loaded files in its database)."""
    a = parse_policy("version: 1\ngroups: {g: [x]}\n", path="a.yaml")
    b = parse_policy("version: 1\ndefault_marking: red\ngroups: {g: [y]}\n", path="b.yaml")
    merged = merge_policies([a, b])
    assert merged.default_marking == "red" and merged.default_marking_at == ("b.yaml", 2)
    assert merged.groups == {"g": frozenset({"x", "y"})}
    assert merge_policies([]) == DEFAULT_POLICY and merge_policies([a]) is a
    assert merge_policies([DEFAULT_POLICY, b]).default_marking == "red"
    c = parse_policy("version: 1\ndefault_marking: amber\n", path="c.yaml")
    with pytest.raises(PolicyError) as info:
        merge_policies([merged, c])
    assert [str(p) for p in info.value.problems] == [
        "c.yaml:2: default_marking amber conflicts with red in b.yaml:2; "
        "all policy files must agree"
    ]
    rule = "version: 1\nrules:\n  - name: r\n    deny: {members: [a]}\n"
    with pytest.raises(PolicyError, match="duplicate rule name 'r'"):
        merge_policies([parse_policy(rule, path="x"), parse_policy(rule, path="y")])


def test_parse_policies_reports_every_file() -> None:
    sources = [("a.yaml", "version: 1\ndefault_marking: red\n"), ("b.yaml", "version: 1\nx: 1\n")]
    with pytest.raises(PolicyError) as info:
        parse_policies(sources)
    assert [(p.path, p.line) for p in info.value.problems] == [("b.yaml", 2)]
    assert parse_policies(sources[:1]).default_marking == "red"
    assert parse_policies([]) == DEFAULT_POLICY


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


# --------------------------------------------------------------------------- linting


def test_lint_unknown_members_and_groups(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "p.yaml",
        """
        version: 1
        groups:
          water-utility: [northport, lakesid]
        members:
          eastfield: {anonymous: true}
        rules:
          - name: r
            from: {groups: [nort]}
            allow: {groups: [water-utility, south], members: [riverton, ghost]}
        """,
    )
    found = check_policy_files([path], known_members=DEMO_MEMBERS, known_groups=DEMO_GROUPS)
    assert all(p.is_warning and p.message.startswith(WARNING_PREFIX) for p in found)
    assert [(p.line, p.message.split("'")[1]) for p in found] == [
        (3, "lakesid"),
        (5, "eastfield"),
        (8, "nort"),
        (9, "ghost"),
    ]
    assert "did you mean 'lakeside'?" in found[0].message
    assert (
        "unknown group 'nort'" in found[2].message and "did you mean 'north'?" in found[2].message
    )
    # without the known sets there is nothing to compare against
    assert check_policy_files([path]) == []
    # and the policy still loads: these are warnings, not errors
    assert len(load_policy(path).rules) == 1


def test_lint_groups_declared_in_another_file_are_known(tmp_path: Path) -> None:
    groups = write(tmp_path, "groups.yaml", "version: 1\ngroups:\n  ports: [northport]\n")
    rules = write(
        tmp_path, "rules.yaml", "version: 1\nrules:\n  - name: r\n    allow: {groups: [ports]}\n"
    )
    assert check_policy_files([groups, rules], known_members=DEMO_MEMBERS, known_groups=set()) == []
    (warning,) = check_policy_files([rules], known_groups=set())
    assert warning.line == 4 and "unknown group 'ports'" in warning.message


def test_lint_rules_that_never_apply_or_do_nothing(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "p.yaml",
        """
        version: 1
        rules:
          - name: empty allow
            allow: {}
          - name: empty deny
            deny: {members: []}
          - name: empty from
            from: {}
            deny: {members: [a]}
          - name: no levels
            markings: []
            deny: {members: [a]}
          - name: green to a
            markings: [green, white]
            allow: {members: [a]}
          - name: red to all
            allow: {everyone: true, members: [a, a]}
        """,
    )
    found = [(p.line, p.message) for p in check_policy_files([path])]
    assert all(message.startswith(WARNING_PREFIX) for _, message in found)
    expected = [
        (4, "'empty allow' can never apply: 'allow' names nobody"),
        (6, "'empty deny' has no effect: 'deny' names nobody"),
        (8, "'empty from' can never apply: 'from' is empty"),
        (11, "'no levels' can never apply: 'markings' is empty"),
        (13, "'green to a' has no effect: CLEAR and GREEN"),
        (16, "'red to all' shares AMBER+STRICT, RED objects with every member"),
        (17, "member 'a' listed twice"),
        (17, "'red to all': members and groups are redundant"),
    ]
    assert len(found) == len(expected), found
    for (line, message), (want_line, want) in zip(found, expected, strict=True):
        assert line == want_line and want in message, (line, message)


def test_lint_includes_errors_and_merge_conflicts(tmp_path: Path) -> None:
    first = write(
        tmp_path, "a.yaml", "version: 1\ndefault_marking: red\nmembers:\n  a: {anonymous: true}\n"
    )
    second = write(
        tmp_path,
        "b.yaml",
        "version: 1\ndefault_marking: green\nmembers:\n  a: {anonymous: false}\nrules: 5\n",
    )
    found = check_policy_files([first, second, tmp_path / "gone.yaml"])
    assert [(Path(p.path).name, p.line, p.is_warning) for p in found] == [
        ("b.yaml", 2, False),
        ("b.yaml", 4, True),
        ("b.yaml", 5, False),
        ("gone.yaml", 0, False),
    ]
    assert "true wins" in found[1].message
    assert str(found[0]).startswith(f"{second}:2: default_marking green conflicts with red")


def test_lint_never_raises_on_garbage(tmp_path: Path) -> None:
    path = tmp_path / "g.yaml"
    path.write_text("version: 1\nrules:\n  - &a [*a]\n  - !!python/object:os.system {}\n")
    found = check_policy_files([path])
    assert [p.line for p in found] == [3, 4, 4] and not any(p.is_warning for p in found)
    assert "rule #1 must be a mapping" in found[0].message
    assert "rule #2 has no 'name'" in found[1].message


# --------------------------------------------------------------------------- round trip

NAMES = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}", fullmatch=True)
RULE_NAMES = st.text(
    st.characters(
        blacklist_categories=("Cc", "Cs", "Zl", "Zp", "Cn", "Co"), blacklist_characters="\ufeff"
    ),
    min_size=1,
    max_size=40,
).filter(lambda s: s == s.strip() and s != "")


def selectors(*, everyone: bool) -> st.SearchStrategy[Selector]:
    return st.builds(
        Selector,
        st.frozensets(NAMES, max_size=3),
        st.frozensets(NAMES, max_size=3),
        st.booleans() if everyone else st.just(False),
    )


@st.composite
def rules(draw: st.DrawFn, name: str) -> Rule:
    effect = draw(st.sampled_from(["allow", "deny"]))
    return Rule(
        name=name,
        source=draw(st.none() | selectors(everyone=False)),
        markings=draw(st.none() | st.frozensets(st.sampled_from(TLP_LEVELS))),
        effect=effect,
        target=draw(selectors(everyone=effect == "allow")),
    )


@st.composite
def documents(draw: st.DrawFn) -> PolicyDocument:
    names = draw(
        st.lists(RULE_NAMES, max_size=5, unique_by=lambda n: " ".join(n.split()).casefold())
    )
    return PolicyDocument(
        default_marking=draw(st.sampled_from(TLP_LEVELS)),
        groups=draw(st.dictionaries(NAMES, st.frozensets(NAMES, max_size=4), max_size=3)),
        anonymous_members=draw(st.frozensets(NAMES, max_size=3)),
        rules=tuple(draw(rules(name)) for name in names),
    )


def render(policy: PolicyDocument, *, white: bool, members_off: list[str]) -> dict[str, Any]:
    """The YAML data an author could write for ``policy`` (omitting what can be omitted)."""

    def level(value: str) -> str:
        return "white" if white and value == "clear" else value

    def selector(s: Selector) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if s.members:
            out["members"] = sorted(s.members)
        if s.groups:
            out["groups"] = sorted(s.groups)
        if s.everyone:
            out["everyone"] = True
        return out

    data: dict[str, Any] = {"version": 1, "default_marking": level(policy.default_marking)}
    data["groups"] = {g: sorted(ms) for g, ms in policy.groups.items()}
    data["members"] = {m: {"anonymous": True} for m in sorted(policy.anonymous_members)}
    data["members"].update({m: {"anonymous": False} for m in members_off})
    data["rules"] = []
    for rule in policy.rules:
        item: dict[str, Any] = {"name": rule.name}
        if rule.source is not None:
            item["from"] = selector(rule.source)
        if rule.markings is not None:
            item["markings"] = [level(m) for m in sorted(rule.markings)]
        item[rule.effect] = selector(rule.target)
        data["rules"].append(item)
    return data


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    policy=documents(),
    style=st.sampled_from([None, True, False]),
    white=st.booleans(),
    off=st.lists(NAMES, max_size=2),
)
def test_round_trip(
    policy: PolicyDocument, style: bool | None, white: bool, off: list[str]
) -> None:
    members_off = [m for m in off if m not in policy.anonymous_members]
    text = yaml.safe_dump(
        render(policy, white=white, members_off=members_off),
        default_flow_style=style,
        sort_keys=False,
        width=60,
    )
    parsed = parse_policy(text, path="rt.yaml")
    assert parsed == policy
    # and each rule points at the line its name is written on
    lines = text.splitlines()
    for rule in parsed.rules:
        assert rule.path == "rt.yaml" and 1 <= rule.line <= len(lines)
        if style is False:
            assert lines[rule.line - 1].lstrip().startswith("- name:")
