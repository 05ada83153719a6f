"""Several files as one: unions, conflicting defaults, reused rule names, repeats."""

from __future__ import annotations

from pathlib import Path

import pytest

from cityshield.policy.document import (
    DEFAULT_POLICY,
    PolicyError,
    PolicyProblem,
    load_policies,
    load_policy,
    merge_policies,
    parse_policy,
)
from cityshield.policy.document.merge import (
    document_facts,
    file_facts,
    merge_documents,
    repeated_files,
)
from cityshield.policy.document.parsed import ParsedFile
from cityshield.policy.document.reader import read_text
from tests.utils.policy_text import (
    write,
)


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


def test_merge_facts_of_a_file_and_of_its_document_agree() -> None:
    """merge_policies (documents) and load_policies (files) check the same facts."""
    part = read_text(
        "version: 1\ndefault_marking: red\nrules:\n  - name: Rule  One\n    deny: {members: [a]}\n",
        "f.yaml",
    )
    assert file_facts(part) == document_facts(part.document())
    assert file_facts(part).default == ("red", "f.yaml", 2)
    assert file_facts(part).names == [("rule one", "Rule  One", "f.yaml", 4)]


def test_the_same_file_by_another_path_is_listed_twice(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    path = write(tmp_path, "a.yaml", "version: 1\n")
    again = tmp_path / "sub" / ".." / "a.yaml"
    assert repeated_files([ParsedFile(str(path)), ParsedFile(str(again))]) == [
        PolicyProblem(str(again), 0, f"listed twice (as {path})")
    ]


def test_merge_documents_without_conflict_checks() -> None:
    a = parse_policy("version: 1\nmembers: {x: {anonymous: true}}\n", path="a.yaml")
    assert merge_documents([]) is DEFAULT_POLICY and merge_documents([a]) is a
    merged = merge_documents([a, DEFAULT_POLICY])
    assert merged.anonymous_members == frozenset({"x"}) and merged.source == "a.yaml, <default>"
    assert merged.default_marking == "amber" and merged.default_marking_at is None
