"""What one file yielded: its problems and the document it stands for."""

from __future__ import annotations

from cityshield.policy.document import DEFAULT_POLICY, WARNING_PREFIX, PolicyProblem
from cityshield.policy.document.parsed import ParsedFile


def test_parsed_file_records_problems_with_its_path() -> None:
    out = ParsedFile("p.yaml")
    out.error(3, "bad")
    out.warn(4, "odd")
    assert out.errors == [PolicyProblem("p.yaml", 3, "bad")]
    assert out.warnings == [PolicyProblem("p.yaml", 4, WARNING_PREFIX + "odd")]


def test_parsed_file_as_a_document() -> None:
    out = ParsedFile("p.yaml")
    assert out.document() == DEFAULT_POLICY and out.document().default_marking_at is None
    out.default_marking = ("red", 2)
    out.groups = {"b": {"x"}, "a": set()}
    out.anonymous = {"x": (True, 5), "y": (False, 6)}
    document = out.document()
    assert document.default_marking == "red" and document.default_marking_at == ("p.yaml", 2)
    assert list(document.groups) == ["a", "b"] and document.groups["b"] == frozenset({"x"})
    assert document.anonymous_members == frozenset({"x"}) and document.source == "p.yaml"
