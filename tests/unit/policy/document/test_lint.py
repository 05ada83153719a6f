"""Warnings: rules that never apply or share too widely, unknown names, conflicts."""

from __future__ import annotations

from pathlib import Path

from cityshield.policy.document import WARNING_PREFIX, check_policy_files, load_policy
from tests.utils.policy_text import (
    DEMO_GROUPS,
    DEMO_MEMBERS,
    EXAMPLE,
    write,
)


def test_example_policy_lints_clean_against_the_demo_network() -> None:
    assert check_policy_files([EXAMPLE], known_members=DEMO_MEMBERS, known_groups=DEMO_GROUPS) == []


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
