"""What a parsed sharing policy is: immutable selectors, rules and documents.

The engine caches decisions on these objects, so they are frozen; where a rule or a default was
written (path, line) is provenance for errors and ``policy explain``, not meaning, so equality
ignores it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
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


EXPORT_KEYS = ("min_members", "min_confidence")
"""The thresholds an ``export:`` section may set (docs/exports.md)."""
EXPORT_LIMITS = {"min_members": (1, 1000), "min_confidence": (0, 100)}
"""Inclusive bounds of each threshold."""
ExportScope = Literal["network", "group", "member"]


@dataclass(frozen=True)
class ExportSetting:
    """One threshold for what a member's exports (its automated blocking) contain, set
    network-wide, for a group or for one member. ``name`` is the group or member ("" for
    the network); ``line`` and ``path`` are provenance, not meaning."""

    scope: ExportScope
    name: str
    key: str
    value: int
    line: int = field(default=0, compare=False)
    path: str = field(default="<policy>", compare=False)

    @property
    def order(self) -> tuple[str, str, str]:
        """Documents keep their settings in this order, so that equal policies are equal
        whichever order their files wrote them in."""
        return (self.scope, self.name, self.key)


@dataclass(frozen=True)
class ExportDefaults:
    """The thresholds a member's exports apply when its request names none.

    The built-in values export everything its network view holds (any single report), as
    the hub did before thresholds existed."""

    min_members: int = 1
    min_confidence: int = 0


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
    export_settings: tuple[ExportSetting, ...] = ()
    """Thresholds for members' exports (``export:``, ``members: NAME: export:``)."""

    def export_defaults(self, member: str, groups: Iterable[str]) -> ExportDefaults:
        """The thresholds for ``member`` (in ``groups``), each key on its own: the member's
        own value, else the strictest of its groups' values (a member in a cautious group
        must not escape it through a lax one), else the network-wide value, else the
        built-in one."""
        groups = set(groups)
        resolved: dict[str, int] = {}
        for key in EXPORT_KEYS:
            values = [s for s in self.export_settings if s.key == key]
            own = [s.value for s in values if s.scope == "member" and s.name == member]
            grouped = [s.value for s in values if s.scope == "group" and s.name in groups]
            network = [s.value for s in values if s.scope == "network"]
            if own or grouped or network:
                resolved[key] = own[0] if own else max(grouped) if grouped else network[0]
        return ExportDefaults(**resolved)


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
