"""Warnings: what is legal in a policy but probably not what its author meant.

A rule that can never apply, one that shares RED with everyone, a name the hub does not know:
none of these stops a policy from loading (the hub may learn the member later), so they are
reported only by ``check_policy_files``, each message starting with :data:`WARNING_PREFIX`.
"""

from __future__ import annotations

from cityshield.policy.document.model import TLP_LEVELS, Rule
from cityshield.policy.document.nodes import Entries, line
from cityshield.policy.document.parsed import ParsedFile
from cityshield.policy.document.problems import WARNING_PREFIX, PolicyProblem, suggest

_RESTRICTED = frozenset({"amber+strict", "red"})
_OPEN = frozenset({"clear", "green"})


def rule_warnings(out: ParsedFile, rule: Rule, label: str, entries: Entries) -> None:
    """Warnings for a valid rule, at the line of the part that is probably wrong."""
    target_line = line(entries[rule.effect][1])
    if rule.source is not None and rule.source.is_empty:
        out.warn(line(entries["from"][1]), f"{label} can never apply: 'from' is empty")
    if rule.markings is not None and not rule.markings:
        out.warn(line(entries["markings"][1]), f"{label} can never apply: 'markings' is empty")
    if rule.target.is_empty:
        verb = "can never apply" if rule.effect == "allow" else "has no effect"
        out.warn(target_line, f"{label} {verb}: '{rule.effect}' names nobody")
    if rule.target.everyone and (rule.target.members or rule.target.groups):
        out.warn(target_line, f"{label}: members and groups are redundant with 'everyone: true'")
    if rule.effect == "allow":
        levels = set(TLP_LEVELS) if rule.markings is None else set(rule.markings)
        if rule.target.everyone and levels & _RESTRICTED:
            shown = ", ".join(sorted(level.upper() for level in levels & _RESTRICTED))
            out.warn(
                rule.line,
                f"{label} shares {shown} objects with every member; those levels are for "
                "named recipients only (limit it with 'markings')",
            )
        elif levels and levels <= _OPEN:
            out.warn(
                rule.line,
                f"{label} has no effect: CLEAR and GREEN objects are already visible to "
                "every member",
            )


def _unreachable_thresholds(
    part: ParsedFile, known_members: set[str] | None
) -> list[PolicyProblem]:
    """A ``min_members`` above the number of members the hub has: those exports stay empty."""
    if not known_members:
        return []
    return [
        PolicyProblem(
            part.path,
            setting.line,
            f"{WARNING_PREFIX}min_members {setting.value} is more than the {len(known_members)} "
            "members the hub has: no indicator can reach it, so those exports stay empty",
        )
        for setting in part.exports
        if setting.key == "min_members" and setting.value > len(known_members)
    ]


def file_set_warnings(
    parts: list[ParsedFile],
    *,
    known_members: set[str] | None,
    known_groups: set[str] | None,
) -> list[PolicyProblem]:
    """Warnings that need every file at once: ``anonymous`` set both ways, names of members
    or groups unknown to the hub (groups declared in any of the files are known), and export
    thresholds no indicator can reach."""
    problems: list[PolicyProblem] = []
    declared_groups = {group for part in parts for group in part.group_lines}
    anonymous_on = {
        member: (part.path, at)
        for part in parts
        for member, (on, at) in part.anonymous.items()
        if on
    }
    for part in parts:
        problems += _unreachable_thresholds(part, known_members)
        for member, (on, at) in part.anonymous.items():
            if not on and member in anonymous_on:
                where = "{}:{}".format(*anonymous_on[member])
                problems.append(
                    PolicyProblem(
                        part.path,
                        at,
                        f"{WARNING_PREFIX}member '{member}' is anonymous: false here but "
                        f"anonymous: true in {where}; true wins",
                    )
                )
        for ref in part.refs:
            if ref.kind == "member" and known_members is not None and ref.name not in known_members:
                problems.append(
                    PolicyProblem(
                        part.path,
                        ref.line,
                        f"{WARNING_PREFIX}unknown member '{ref.name}' (no such member in the hub)"
                        + suggest(ref.name, known_members),
                    )
                )
            if (
                ref.kind == "group"
                and known_groups is not None
                and ref.name not in known_groups
                and ref.name not in declared_groups
            ):
                problems.append(
                    PolicyProblem(
                        part.path,
                        ref.line,
                        f"{WARNING_PREFIX}unknown group '{ref.name}' (not declared under "
                        "'groups:' nor set by `cityshield member add --group`)"
                        + suggest(ref.name, known_groups | declared_groups),
                    )
                )
    return problems
