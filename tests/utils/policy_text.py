"""Writing policy texts in tests, and reading back the problems they raise."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from cityshield.policy.document import PolicyError, parse_policy

EXAMPLE = Path(__file__).resolve().parents[2] / "policies" / "network.yaml"
DEMO_MEMBERS = {"northport", "riverton", "lakeside", "southbay", "soc-analyst", "hub-admin"}
DEMO_GROUPS = {"north", "south"}


def doc(text: str) -> str:
    """A policy written indented inside a test, as the file would hold it."""
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
