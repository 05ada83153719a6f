"""What was read from one policy file, kept even when the file has errors.

A merge and the linter still check what was readable in a broken file (its default marking,
its rule names, the names it refers to), so that one run reports every problem at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from cityshield.policy.document.model import ExportSetting, PolicyDocument, Rule
from cityshield.policy.document.problems import WARNING_PREFIX, PolicyProblem


class Ref(NamedTuple):
    """A member or group name as written, for the linter's unknown-name warnings."""

    kind: Literal["member", "group"]
    name: str
    line: int


@dataclass
class ParsedFile:
    """Everything read from one file, with its errors and warnings."""

    path: str
    errors: list[PolicyProblem] = field(default_factory=list)
    warnings: list[PolicyProblem] = field(default_factory=list)
    default_marking: tuple[str, int] | None = None  # (level, line) when set explicitly
    groups: dict[str, set[str]] = field(default_factory=dict)
    group_lines: dict[str, int] = field(default_factory=dict)
    anonymous: dict[str, tuple[bool, int]] = field(default_factory=dict)
    rules: list[Rule] = field(default_factory=list)
    rule_names: dict[str, tuple[str, int]] = field(default_factory=dict)  # key -> (name, line)
    refs: list[Ref] = field(default_factory=list)
    exports: list[ExportSetting] = field(default_factory=list)

    def error(self, line: int, message: str) -> None:
        self.errors.append(PolicyProblem(self.path, line, message))

    def warn(self, line: int, message: str) -> None:
        self.warnings.append(PolicyProblem(self.path, line, WARNING_PREFIX + message))

    def document(self) -> PolicyDocument:
        """The file as a policy; only meaningful when it has no errors."""
        return PolicyDocument(
            default_marking=self.default_marking[0] if self.default_marking else "amber",
            groups={g: frozenset(ms) for g, ms in sorted(self.groups.items())},
            anonymous_members=frozenset(m for m, (on, _) in self.anonymous.items() if on),
            rules=tuple(self.rules),
            source=self.path,
            default_marking_at=(self.path, self.default_marking[1])
            if self.default_marking
            else None,
            export_settings=tuple(sorted(self.exports, key=lambda setting: setting.order)),
        )
