"""What a parsed sharing policy is: immutable selectors, rules and documents.

The engine caches decisions on these objects, so they are frozen; where a rule or a default was
written (path, line) is provenance for errors and ``policy explain``, not meaning, so equality
ignores it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

POLICY_VERSION = 1
TLP_LEVELS = ("clear", "green", "amber", "amber+strict", "red")
"""TLP 2.0 levels, least to most restrictive. TLP 1.0 ``white`` is read as ``clear``."""
TLP_ALIASES = {"white": "clear"}

NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}")
"""Member and group names (matched in full)."""


@dataclass(frozen=True)
class Selector:
    """A set of members: named members, members of named groups, or every member.

    Groups are resolved by the engine, because memberships also come from the database.
    """

    members: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    everyone: bool = False

    @property
    def is_empty(self) -> bool:
        """Selects nobody: a rule with an empty selector can never change anything."""
        return not (self.members or self.groups or self.everyone)


@dataclass(frozen=True)
class Rule:
    """One rule: for objects from ``source`` at ``markings``, widen or narrow the audience.

    ``line`` and ``path`` say where the rule was written (for ``policy explain`` and errors);
    they are not part of what the rule means, so equality ignores them.
    """

    name: str
    source: Selector | None  # None: any submitter
    markings: frozenset[str] | None  # None: every TLP level
    effect: Literal["allow", "deny"]
    target: Selector
    line: int = field(default=0, compare=False)
    path: str = field(default="<policy>", compare=False)


@dataclass(frozen=True)
class PolicyDocument:
    """A validated policy, or several merged. Immutable: the engine may cache decisions on it.

    ``groups`` maps group name to member names and adds to the memberships in the database;
    treat it as read-only. ``source`` is the file path, several joined with ", " after a
    merge, or ``"<default>"``; like rule lines it is provenance, not meaning, and is not
    compared (nor is ``default_marking_at``).
    """

    default_marking: str
    groups: dict[str, frozenset[str]] = field(hash=False)
    anonymous_members: frozenset[str]
    rules: tuple[Rule, ...]
    source: str = field(default="<policy>", compare=False)
    default_marking_at: tuple[str, int] | None = field(default=None, compare=False)
    """(path, line) where ``default_marking`` was written; None when a file left it unset,
    so that merging it with a file that does set it is no conflict."""


DEFAULT_POLICY = PolicyDocument(
    default_marking="amber",
    groups={},
    anonymous_members=frozenset(),
    rules=(),
    source="<default>",
)
"""What the hub applies without policy files: TLP semantics alone, unmarked objects AMBER."""


def rule_name_key(name: str) -> str:
    """Rule names collide when they differ only in case or spacing: they are read by people."""
    return " ".join(name.split()).casefold()
