"""The sharing decision for one object: which principals may see it, and why.

Pure: the same function computes audience rows at ingest and on policy reload, and
replays a decision for ``policy explain``; nothing here reads the database.

TLP 2.0 for a sharing hub (TLP 1.0 WHITE is CLEAR):
- CLEAR, GREEN: every member;
- AMBER: members sharing a group with the submitter;
- AMBER+STRICT, RED: only the recipients the submitter names (a policy rule or the object's
  audience extension); never counted in network aggregates or exports;
- no TLP marking: the policy's ``default_marking``.
Rules then widen (allow) or narrow (deny); a deny beats an allow. The submitter and admins
always see the submitter's objects.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cityshield.policy.document import PolicyDocument, Rule, Selector
from cityshield.stix.vocabulary import TLP_LEVELS, TLP_ORDER

EVERYONE = "*"
AUDIENCE_EXTENSION_ID = "extension-definition--3e9c2f4a-8b7d-4e1f-a6c5-0d9b8e7f6a5b"
"""Per-object audience: ``{"members": [names or identity ids], "groups": [...],
"anonymous": bool}`` in a property-extension, signed with the object."""


def member_principal(member_id: int) -> str:
    return f"m:{member_id}"


def group_principal(group: str) -> str:
    return f"g:{group}"


@dataclass(frozen=True)
class Subject:
    """The facts about one stored object that its audience depends on."""

    submitter: str | None
    submitter_groups: frozenset[str]
    level: str
    named_members: frozenset[str] = frozenset()
    named_groups: frozenset[str] = frozenset()
    anonymous: bool = False


@dataclass(frozen=True)
class Decision:
    """Who may see an object. Member names, not ids: the caller maps them to principals."""

    everyone: bool
    members: frozenset[str]
    groups: frozenset[str]
    denied_members: frozenset[str]
    denied_groups: frozenset[str]
    trace: tuple[str, ...] = field(default=())

    def allows(self, member: str, groups: Iterable[str]) -> bool:
        """The decision for one viewer (admins and the submitter are decided by the caller)."""
        groups = set(groups)
        if member in self.denied_members or groups & self.denied_groups:
            return False
        return self.everyone or member in self.members or bool(groups & self.groups)


def explicit_level(obj: dict[str, Any]) -> str | None:
    """The most restrictive TLP level among the object's markings; None when unmarked."""
    levels = [TLP_LEVELS[m] for m in obj.get("object_marking_refs") or [] if m in TLP_LEVELS]
    return max(levels, key=TLP_ORDER.index) if levels else None


def marking_level(obj: dict[str, Any], default: str) -> str:
    """The most restrictive TLP level among the object's markings, else the default."""
    return explicit_level(obj) or default


def subject_of(
    obj: dict[str, Any],
    *,
    submitter: str | None,
    submitter_groups: frozenset[str],
    policy: PolicyDocument,
    identity_names: dict[str, str],
) -> Subject:
    """Read the policy-relevant facts off a stored object."""
    extension = (obj.get("extensions") or {}).get(AUDIENCE_EXTENSION_ID) or {}
    named = extension.get("members") if isinstance(extension, dict) else None
    groups = extension.get("groups") if isinstance(extension, dict) else None
    anonymous = bool(extension.get("anonymous")) if isinstance(extension, dict) else False
    return Subject(
        submitter=submitter,
        submitter_groups=submitter_groups,
        level=marking_level(obj, policy.default_marking),
        named_members=frozenset(
            identity_names.get(n, n) for n in named or [] if isinstance(n, str)
        ),
        named_groups=frozenset(g for g in groups or [] if isinstance(g, str)),
        anonymous=anonymous or (submitter in policy.anonymous_members),
    )


def _matches(selector: Selector | None, member: str | None, groups: frozenset[str]) -> bool:
    if selector is None:
        return True
    return selector.everyone or member in selector.members or bool(groups & selector.groups)


def _applies(rule: Rule, subject: Subject) -> bool:
    in_scope = rule.markings is None or subject.level in rule.markings
    return in_scope and _matches(rule.source, subject.submitter, subject.submitter_groups)


def decide(subject: Subject, policy: PolicyDocument) -> Decision:
    """The audience of an object under ``policy``, with a trace of every step for explain."""
    trace: list[str] = [f"TLP level {subject.level}"]
    everyone = False
    members: set[str] = set()
    groups: set[str] = set()
    if subject.anonymous:
        trace.append("anonymous submission: the original is for its submitter and admins only")
        return Decision(False, frozenset(), frozenset(), frozenset(), frozenset(), tuple(trace))
    if subject.level in ("clear", "green"):
        everyone = True
        trace.append("CLEAR/GREEN: every member of the network")
    elif subject.level == "amber":
        groups |= subject.submitter_groups
        trace.append(
            "AMBER: members sharing a group with the submitter "
            f"({', '.join(sorted(subject.submitter_groups)) or 'the submitter is in no group'})"
        )
    else:
        trace.append(f"{subject.level.upper()}: only the recipients the submitter names")
    if subject.named_members or subject.named_groups:
        members |= subject.named_members
        groups |= subject.named_groups
        trace.append(
            "named by the object's audience extension: "
            + ", ".join(
                sorted(subject.named_members | {f"group {g}" for g in subject.named_groups})
            )
        )
    denied_members: set[str] = set()
    denied_groups: set[str] = set()
    for rule in policy.rules:
        if not _applies(rule, subject):
            continue
        if rule.effect == "allow":
            everyone = everyone or rule.target.everyone
            members |= rule.target.members
            groups |= rule.target.groups
        else:
            denied_members |= rule.target.members
            denied_groups |= rule.target.groups
        trace.append(
            f"rule '{rule.name}' (line {rule.line}) {rule.effect}s {_describe(rule.target)}"
        )
    return Decision(
        everyone,
        frozenset(members),
        frozenset(groups),
        frozenset(denied_members),
        frozenset(denied_groups),
        tuple(trace),
    )


def _describe(selector: Selector) -> str:
    parts = ["every member"] if selector.everyone else []
    parts += [f"member {m}" for m in sorted(selector.members)]
    parts += [f"group {g}" for g in sorted(selector.groups)]
    return ", ".join(parts) or "nobody"


def explain_for(
    decision: Decision,
    *,
    viewer: str,
    viewer_groups: frozenset[str],
    viewer_is_admin: bool,
    is_submitter: bool,
) -> tuple[bool, list[str]]:
    """Replay a decision for one viewer: (allowed, the reasons that decided it)."""
    reasons = list(decision.trace)
    if viewer_is_admin:
        return True, [*reasons, f"{viewer} is an admin: admins see every object"]
    if is_submitter:
        return True, [*reasons, f"{viewer} submitted it: a submitter always sees its own"]
    denied_by = (viewer in decision.denied_members) or bool(viewer_groups & decision.denied_groups)
    if denied_by:
        return False, [*reasons, f"denied: a deny rule names {viewer} or one of its groups"]
    if decision.allows(viewer, viewer_groups):
        return True, [*reasons, f"allowed: the audience includes {viewer}"]
    return False, [*reasons, f"not allowed: nothing in the audience names {viewer} or its groups"]


def audience_rows(
    decision: Decision, *, member_ids: dict[str, int], submitter_id: int | None
) -> list[tuple[str, bool]]:
    """(principal, allow) rows for a decision. Unknown member names are dropped: a name in a
    policy or an extension gives nothing to nobody."""
    rows: set[tuple[str, bool]] = set()
    if decision.everyone:
        rows.add((EVERYONE, True))
    rows |= {(member_principal(member_ids[m]), True) for m in decision.members if m in member_ids}
    rows |= {(group_principal(g), True) for g in decision.groups}
    rows |= {
        (member_principal(member_ids[m]), False) for m in decision.denied_members if m in member_ids
    }
    rows |= {(group_principal(g), False) for g in decision.denied_groups}
    if submitter_id is not None:
        rows.discard((member_principal(submitter_id), False))
        rows.add((member_principal(submitter_id), True))
    return sorted(rows)
