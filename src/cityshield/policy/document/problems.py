"""How the policy reader reports what is wrong: problems pointing at a file line.

Every error found is reported at once, so that an author fixes a file in one pass; warnings
(legal but probably wrong) share the type and are told apart by :data:`WARNING_PREFIX`.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import NamedTuple

from cityshield.errors import BadRequest

WARNING_PREFIX = "warning: "
"""Lint findings that do not stop a policy from loading start with this."""


class PolicyProblem(NamedTuple):
    """One finding, pointing at a line (1-based; 0 means the file as a whole)."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"

    @property
    def is_warning(self) -> bool:
        return self.message.startswith(WARNING_PREFIX)


class PolicyError(BadRequest):
    """A policy that cannot be used; ``problems`` holds every error found, not just the first."""

    title = "Invalid sharing policy"

    def __init__(self, problems: Iterable[PolicyProblem]) -> None:
        self.problems: list[PolicyProblem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems) or self.title)


def ordered(problems: list[PolicyProblem], paths: list[str]) -> list[PolicyProblem]:
    """File order first (as given), then line; stable for problems on the same line."""
    order = {path: index for index, path in reversed(list(enumerate(paths)))}
    return sorted(problems, key=lambda p: (order.get(p.path, len(order)), p.line))


def suggest(word: str, choices: Iterable[str]) -> str:
    """A "did you mean" hint for a misspelt key or name, or nothing when none is close."""
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f"; did you mean '{close[0]}'?" if close else ""
