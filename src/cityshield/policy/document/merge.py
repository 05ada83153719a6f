"""Several policy files as one: what conflicts between them, and the merged document.

Groups and anonymous members are unioned and rules concatenated in the order given; the files
must agree on ``default_marking`` where they set it, and no two rules may share a name (a rule
is named in ``policy explain``, so a name must say which one applied). Export thresholds are
unioned too, and must agree where two files set the same one for the same scope: which file
is loaded last must not decide what reaches a firewall.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

from cityshield.policy.document.model import (
    DEFAULT_POLICY,
    ExportSetting,
    PolicyDocument,
    Rule,
    rule_name_key,
)
from cityshield.policy.document.parsed import ParsedFile
from cityshield.policy.document.problems import PolicyError, PolicyProblem, ordered


class MergeFacts(NamedTuple):
    """What merging checks, readable from a document or from a file with errors alike."""

    default: tuple[str, str, int] | None  # (level, path, line) when set explicitly
    names: list[tuple[str, str, str, int]]  # (key, name, path, line) per rule
    exports: tuple[ExportSetting, ...] = ()


def file_facts(part: ParsedFile) -> MergeFacts:
    default = None
    if part.default_marking is not None:
        default = (part.default_marking[0], part.path, part.default_marking[1])
    names = [(key, name, part.path, line) for key, (name, line) in part.rule_names.items()]
    return MergeFacts(default, names, tuple(part.exports))


def document_facts(document: PolicyDocument) -> MergeFacts:
    default = None
    if document.default_marking_at is not None:
        default = (document.default_marking, *document.default_marking_at)
    names = [(rule_name_key(r.name), r.name, r.path, r.line) for r in document.rules]
    return MergeFacts(default, names, document.export_settings)


def merge_problems(all_facts: Iterable[MergeFacts]) -> list[PolicyProblem]:
    """What makes several policies unusable together: conflicting defaults, reused rule names."""
    problems: list[PolicyProblem] = []
    default: tuple[str, str, int] | None = None  # the first explicit one: (level, path, line)
    names: dict[str, tuple[str, str, int]] = {}  # key -> (name, path, line)
    exports: dict[tuple[str, str, str], ExportSetting] = {}  # the first of each
    for facts in all_facts:
        problems += _export_conflicts(facts.exports, exports)
        if facts.default is not None:
            level, path, line = facts.default
            if default is None:
                default = facts.default
            elif default[0] != level:
                problems.append(
                    PolicyProblem(
                        path,
                        line,
                        f"default_marking {level} conflicts with {default[0]} in "
                        f"{default[1]}:{default[2]}; all policy files must agree",
                    )
                )
        for key, name, path, line in facts.names:
            if key in names:
                other = names[key]
                problems.append(
                    PolicyProblem(
                        path,
                        line,
                        f"duplicate rule name {name!r} (first used"
                        + ("" if other[0] == name else f" as {other[0]!r}")
                        + f" in {other[1]}:{other[2]})",
                    )
                )
            else:
                names[key] = (name, path, line)
    return problems


def _export_conflicts(
    settings: Iterable[ExportSetting], first: dict[tuple[str, str, str], ExportSetting]
) -> list[PolicyProblem]:
    """Thresholds set differently than in an earlier file (``first`` collects each one)."""
    problems: list[PolicyProblem] = []
    for setting in settings:
        other = first.setdefault((setting.scope, setting.name, setting.key), setting)
        if other.value != setting.value:
            where = (
                "network-wide"
                if setting.scope == "network"
                else f"for {setting.scope} '{setting.name}'"
            )
            problems.append(
                PolicyProblem(
                    setting.path,
                    setting.line,
                    f"export {setting.key} {setting.value} {where} conflicts with "
                    f"{other.value} in {other.path}:{other.line}; all policy files must agree",
                )
            )
    return problems


def repeated_files(parts: list[ParsedFile]) -> list[PolicyProblem]:
    """The same file twice would double its rules: say so instead of two dozen name clashes."""
    seen: dict[str, str] = {}
    problems: list[PolicyProblem] = []
    for part in parts:
        try:
            resolved = str(Path(part.path).resolve())
        except (OSError, RuntimeError):
            resolved = part.path
        if resolved in seen:
            problems.append(PolicyProblem(part.path, 0, f"listed twice (as {seen[resolved]})"))
        seen.setdefault(resolved, part.path)
    return problems


def set_problems(parts: list[ParsedFile]) -> list[PolicyProblem]:
    """What is wrong with these files together (not within one of them)."""
    return repeated_files(parts) + merge_problems(file_facts(part) for part in parts)


def merge_documents(documents: list[PolicyDocument]) -> PolicyDocument:
    """Union groups and anonymous members, concatenate rules; problems are checked before."""
    if not documents:
        return DEFAULT_POLICY
    if len(documents) == 1:
        return documents[0]
    groups: dict[str, set[str]] = {}
    anonymous: set[str] = set()
    rules: list[Rule] = []
    exports: dict[tuple[str, str, str], ExportSetting] = {}
    for document in documents:
        for setting in document.export_settings:
            exports.setdefault((setting.scope, setting.name, setting.key), setting)
        for group, members in document.groups.items():
            groups.setdefault(group, set()).update(members)
        anonymous |= document.anonymous_members
        rules.extend(document.rules)
    explicit = next((d for d in documents if d.default_marking_at is not None), None)
    return PolicyDocument(
        default_marking=explicit.default_marking if explicit else "amber",
        groups={g: frozenset(ms) for g, ms in sorted(groups.items())},
        anonymous_members=frozenset(anonymous),
        rules=tuple(rules),
        source=", ".join(d.source for d in documents),
        default_marking_at=explicit.default_marking_at if explicit else None,
        export_settings=tuple(sorted(exports.values(), key=lambda setting: setting.order)),
    )


def combine(parts: list[ParsedFile]) -> PolicyDocument:
    """Every file's errors plus merge problems, all at once; else the merged document."""
    errors = [problem for part in parts for problem in part.errors]
    errors += set_problems(parts)
    if errors:
        raise PolicyError(ordered(errors, [part.path for part in parts]))
    return merge_documents([part.document() for part in parts])
