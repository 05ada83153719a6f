"""Problems: their text, the error carrying all of them, their order, hints."""

from __future__ import annotations

import pytest

from cityshield.errors import BadRequest
from cityshield.policy.document import WARNING_PREFIX, PolicyError, PolicyProblem, parse_policy
from cityshield.policy.document.problems import ordered, suggest
from tests.utils.policy_text import (
    problems_of,
)


def test_policy_error_shape() -> None:
    with pytest.raises(PolicyError) as info:
        parse_policy("version: 1\ndefault_marking: 7\nrules: 3\n", path="net.yaml")
    error = info.value
    assert isinstance(error, BadRequest) and error.http_status == 400
    assert [(p.path, p.line) for p in error.problems] == [("net.yaml", 2), ("net.yaml", 3)]
    lines = str(error).splitlines()
    assert lines[0].startswith("net.yaml:2: ") and lines[1].startswith("net.yaml:3: ")
    assert error.description == str(error)


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


def test_problem_text_and_warning_flag() -> None:
    problem = PolicyProblem("a.yaml", 4, "bad")
    assert str(problem) == "a.yaml:4: bad" and not problem.is_warning
    assert PolicyProblem("a.yaml", 4, WARNING_PREFIX + "odd").is_warning
    assert str(PolicyError([])) == "Invalid sharing policy"


def test_ordered_by_file_as_given_then_line_stably() -> None:
    problems = [
        PolicyProblem("b.yaml", 1, "b1"),
        PolicyProblem("a.yaml", 5, "a5 first"),
        PolicyProblem("other", 0, "not listed"),
        PolicyProblem("a.yaml", 2, "a2"),
        PolicyProblem("a.yaml", 5, "a5 second"),
    ]
    assert [p.message for p in ordered(problems, ["a.yaml", "b.yaml", "a.yaml"])] == [
        "a2",
        "a5 first",
        "a5 second",
        "b1",
        "not listed",
    ]


def test_suggest_names_only_a_close_match() -> None:
    assert suggest("grups", ["members", "groups"]) == "; did you mean 'groups'?"
    assert suggest("zzz", ["members", "groups"]) == ""
