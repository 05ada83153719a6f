"""One file: the example, version, sections, and files that cannot be read."""

from __future__ import annotations

from pathlib import Path

import pytest

from cityshield.policy.document import (
    DEFAULT_POLICY,
    PolicyError,
    PolicyProblem,
    Selector,
    load_policies,
    load_policy,
    parse_policy,
)
from cityshield.policy.document.reader import read_file, read_text
from tests.utils.policy_text import (
    EXAMPLE,
    doc,
    only_problem,
)


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


def test_example_turns_anonymous_on_by_flipping_one_value() -> None:
    text = EXAMPLE.read_text().replace("anonymous: false", "anonymous: true")
    assert parse_policy(text).anonymous_members == frozenset({"lakeside"})


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


def test_unreadable_files_say_why_for_the_whole_file(tmp_path: Path) -> None:
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"version: 1\n\xff\xfe\n")
    assert read_file(tmp_path).errors == [
        PolicyProblem(str(tmp_path), 0, "is a directory, not a policy file")
    ]
    assert read_file(binary).errors == [
        PolicyProblem(str(binary), 0, "policy file is not UTF-8 text (byte 11)")
    ]


def test_sections_read_even_when_another_part_is_broken() -> None:
    """The linter and merge checks see what a broken file declares."""
    part = read_text(
        doc(
            """
            version: 1
            default_marking: red
            groups:
              north: [ok, "bad name"]
              south: [x]
            members:
              northport:
              lakeside: {anonymous: true}
            """
        ),
        "s.yaml",
    )
    assert [p.line for p in part.errors] == [4]
    assert part.group_lines == {"north": 4, "south": 5}
    assert part.groups == {"south": {"x"}}
    assert part.default_marking == ("red", 2)
    assert part.anonymous == {"lakeside": (True, 8)}
    assert [(r.name, r.line) for r in part.refs if r.kind == "member"][-2:] == [
        ("northport", 7),
        ("lakeside", 8),
    ]


def test_members_must_be_a_mapping() -> None:
    assert only_problem("version: 1\nmembers: [a]\n") == (
        2,
        "members must be a mapping, got a list",
    )


def test_sections_left_empty_are_allowed() -> None:
    """An author may keep the headings of a template with nothing under them yet."""
    assert parse_policy("version: 1\ngroups:\nmembers:\nrules:\n") == DEFAULT_POLICY


def test_a_symlink_loop_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    loop = tmp_path / "loop.yaml"
    loop.symlink_to(loop)
    with pytest.raises(PolicyError) as info:
        load_policies([loop, loop])
    assert [(p.path, p.line) for p in info.value.problems] == [(str(loop), 0)] * 3
    first, second, twice = (p.message for p in info.value.problems)
    assert first == second and first.startswith("cannot read policy file: ")
    assert twice == f"listed twice (as {loop})"
