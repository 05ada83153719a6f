"""An independent model of the sharing policy, for property tests of every read path.

Written from the specification (TLP 2.0 semantics, policy rules, audience extension,
anonymity, the per-viewer network view), deliberately NOT from ``cityshield.policy.engine``:
that module is the code under test, so nothing here imports or mirrors it. The model owns its
own policy representation and renders it to the YAML policy format, so the system parses what
the oracle means rather than the oracle reading what the system parsed.

Specification, for member ``V`` viewing object ``O`` submitted by member ``S``:

- admins see everything; ``S`` always sees its own objects;
- the TLP level of ``O`` is the most restrictive TLP marking it carries (TLP 1.0 WHITE is
  CLEAR), else the policy's ``default_marking``;
- baseline audience: CLEAR/GREEN every member, AMBER members sharing a group with ``S``,
  AMBER+STRICT/RED nobody; groups are those given at member creation plus those the policy
  assigns;
- members and groups named by ``O``'s audience extension are added;
- rules whose ``from`` matches ``S`` (absent: any submitter) and whose ``markings`` contain the
  level (absent: every level) add (allow) or remove (deny) targets; a deny beats an allow;
- an anonymous ``O`` (the policy marks ``S`` anonymous, or the extension says so) is visible to
  ``S`` and admins only; when it was anonymous at ingest the hub republishes it under its own
  identity (id ``republished_id(O.id)``), with the same markings, no audience extension, and
  ``S`` still its submitter for the rules above;
- network view per IOC: visible iff ``V`` may see at least one contributing report whose level
  is not AMBER+STRICT/RED; ``member_count`` counts the distinct submitters of those reports and
  ``contributing_refs`` lists their ids. The block export lists the IOC's value iff ``V`` sees
  it (all generated IOCs are active and none is allowlisted).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import yaml

LEVELS = ("clear", "green", "amber", "amber+strict", "red")
"""TLP 2.0 levels, least to most restrictive."""
LEVEL_ALIASES = {"white": "clear"}
RESTRICTED = frozenset({"amber+strict", "red"})

TLP_MARKINGS: dict[str, str] = {
    # TLP 2.0 (OASIS cti-stix-common-objects)
    "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487": "clear",
    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb": "green",
    "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421": "amber",
    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003": "amber+strict",
    "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1": "red",
    # TLP 1.0 (STIX 2.1, section 7.2.1.4): WHITE reads as CLEAR
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": "clear",
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": "green",
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": "amber",
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": "red",
}
MARKING_BY_LEVEL = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
"""The TLP 2.0 marking of each level."""

AUDIENCE_EXTENSION_ID = "extension-definition--3e9c2f4a-8b7d-4e1f-a6c5-0d9b8e7f6a5b"
"""The per-object audience extension (a property-extension), as documented for submitters."""


def canonical_level(level: str) -> str:
    return LEVEL_ALIASES.get(level, level)


# --------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class Member:
    name: str
    role: str  # member | admin
    groups: frozenset[str]  # given at creation
    identity_id: str = ""  # filled in once the hub created it

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True)
class Selector:
    members: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    everyone: bool = False

    def to_yaml(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "members": sorted(self.members),
            "groups": sorted(self.groups),
        }
        if self.everyone:
            out["everyone"] = True
        return out


@dataclass(frozen=True)
class Rule:
    name: str
    source: Selector | None  # None: any submitter
    markings: tuple[str, ...] | None  # as written (may say white); None: every level
    effect: str  # allow | deny
    target: Selector

    def to_yaml(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        if self.source is not None:
            out["from"] = self.source.to_yaml()
        if self.markings is not None:
            out["markings"] = list(self.markings)
        out[self.effect] = self.target.to_yaml()
        return out

    def covers(self, level: str) -> bool:
        return self.markings is None or level in {canonical_level(m) for m in self.markings}


@dataclass(frozen=True)
class Policy:
    default_marking: str = "amber"  # as written (may say white)
    groups: tuple[tuple[str, tuple[str, ...]], ...] = ()
    anonymous: frozenset[str] = frozenset()
    rules: tuple[Rule, ...] = ()

    def to_yaml(self) -> str:
        doc: dict[str, Any] = {"version": 1, "default_marking": self.default_marking}
        if self.groups:
            doc["groups"] = {group: list(members) for group, members in self.groups}
        if self.anonymous:
            doc["members"] = {name: {"anonymous": True} for name in sorted(self.anonymous)}
        if self.rules:
            doc["rules"] = [rule.to_yaml() for rule in self.rules]
        return yaml.safe_dump(doc, sort_keys=False)

    def assigned_groups(self, name: str) -> frozenset[str]:
        return frozenset(group for group, members in self.groups if name in members)


DEFAULT_POLICY = Policy()
"""What the hub applies before any policy file is loaded."""


@dataclass(frozen=True)
class Audience:
    """The audience extension of one submitted object."""

    members: tuple[str, ...] = ()  # member names, identity ids, or unknown names
    groups: tuple[str, ...] = ()
    anonymous: bool = False

    def to_stix(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "extension_type": "property-extension",
            "members": list(self.members),
            "groups": list(self.groups),
        }
        if self.anonymous:
            out["anonymous"] = True
        return out


@dataclass(frozen=True)
class Submission:
    """One indicator a member submits (to be signed by that member)."""

    id: str
    submitter: str
    ip: str
    markings: tuple[str, ...] = ()  # marking-definition ids
    audience: Audience | None = None

    def to_stix(self) -> dict[str, Any]:
        obj: dict[str, Any] = {
            "type": "indicator",
            "spec_version": "2.1",
            "id": self.id,
            "created": "2026-11-20T09:00:00.000Z",
            "modified": "2026-11-20T09:00:00.000Z",
            "name": f"report of {self.ip}",
            "indicator_types": ["malicious-activity"],
            "pattern": f"[ipv4-addr:value = '{self.ip}']",
            "pattern_type": "stix",
            "valid_from": "2026-11-20T09:00:00Z",
        }
        if self.markings:
            obj["object_marking_refs"] = list(self.markings)
        if self.audience is not None:
            obj["extensions"] = {AUDIENCE_EXTENSION_ID: self.audience.to_stix()}
        return obj


@dataclass(frozen=True)
class Stored:
    """An object the hub holds in ``submissions``: an original, or the hub's republication of
    an anonymous one (same markings, no audience extension, same submitter)."""

    id: str
    submission: Submission
    republication: bool = False

    @property
    def submitter(self) -> str:
        return self.submission.submitter

    @property
    def ip(self) -> str:
        return self.submission.ip


@dataclass(frozen=True)
class NetworkView:
    member_count: int
    contributing_refs: tuple[str, ...]


# --------------------------------------------------------------------------- the oracle


@dataclass
class Oracle:
    """What every member should get, given the members, the policy in force now, the policy
    that was in force when the objects were ingested, and the submissions."""

    members: list[Member]
    policy: Policy
    submissions: list[Submission]
    ingest_policy: Policy = DEFAULT_POLICY
    republished_id: Any = None  # callable: original id -> republication id
    stored: list[Stored] = field(init=False)
    contributors: list[Stored] = field(init=False)

    def __post_init__(self) -> None:
        self.by_name = {m.name: m for m in self.members}
        self.by_identity = {m.identity_id: m.name for m in self.members if m.identity_id}
        self.stored = []
        self.contributors = []
        for sub in self.submissions:
            original = Stored(sub.id, sub)
            self.stored.append(original)
            if self._anonymous_at_ingest(sub):
                assert self.republished_id is not None, "republications need republished_id"
                copy = Stored(self.republished_id(sub.id), sub, republication=True)
                self.stored.append(copy)
                self.contributors.append(copy)
            else:
                self.contributors.append(original)

    # -- facts

    def _anonymous_at_ingest(self, sub: Submission) -> bool:
        by_extension = sub.audience is not None and sub.audience.anonymous
        return by_extension or sub.submitter in self.ingest_policy.anonymous

    def groups_of(self, name: str) -> frozenset[str]:
        member = self.by_name.get(name)
        db = member.groups if member else frozenset()
        return db | self.policy.assigned_groups(name)

    def level(self, obj: Stored) -> str:
        levels = [TLP_MARKINGS[m] for m in obj.submission.markings if m in TLP_MARKINGS]
        if not levels:
            return canonical_level(self.policy.default_marking)
        return max(levels, key=LEVELS.index)

    def _named(self, obj: Stored) -> tuple[set[str], set[str]]:
        """Members (by name) and groups the object's audience extension names."""
        audience = obj.submission.audience
        if obj.republication or audience is None:
            return set(), set()
        names = {self.by_identity.get(ref, ref) for ref in audience.members}
        return names, set(audience.groups)

    def _selects(self, selector: Selector, name: str) -> bool:
        return (
            selector.everyone
            or name in selector.members
            or bool(self.groups_of(name) & selector.groups)
        )

    # -- decisions

    def may_see(self, viewer: str, obj: Stored) -> bool:
        member = self.by_name[viewer]
        if member.is_admin or viewer == obj.submitter:
            return True
        if not obj.republication:
            audience = obj.submission.audience
            if (audience is not None and audience.anonymous) or (
                obj.submitter in self.policy.anonymous
            ):
                return False
        level = self.level(obj)
        viewer_groups = self.groups_of(viewer)
        if level in ("clear", "green"):
            allowed = True
        elif level == "amber":
            allowed = bool(viewer_groups & self.groups_of(obj.submitter))
        else:
            allowed = False
        named_members, named_groups = self._named(obj)
        allowed = allowed or viewer in named_members or bool(viewer_groups & named_groups)
        for rule in self.policy.rules:
            if not rule.covers(level):
                continue
            if rule.source is not None and not self._selects(rule.source, obj.submitter):
                continue
            targeted = self._selects(rule.target, viewer)
            if rule.effect == "deny" and targeted:
                return False
            if rule.effect == "allow" and targeted:
                allowed = True
        return allowed

    def visible_ids(self, viewer: str) -> set[str]:
        return {obj.id for obj in self.stored if self.may_see(viewer, obj)}

    def ips(self) -> list[str]:
        return sorted({sub.ip for sub in self.submissions})

    def network_view(self, viewer: str) -> dict[str, NetworkView]:
        """IOC value -> what ``viewer`` should see of the network indicator (absent: nothing)."""
        counted: dict[str, list[Stored]] = {}
        for obj in self.contributors:
            if self.level(obj) in RESTRICTED or not self.may_see(viewer, obj):
                continue
            counted.setdefault(obj.ip, []).append(obj)
        return {
            ip: NetworkView(
                member_count=len({obj.submitter for obj in objs}),
                contributing_refs=tuple(sorted(obj.id for obj in objs)),
            )
            for ip, objs in counted.items()
        }

    def blocklist(self, viewer: str) -> list[str]:
        return sorted(self.network_view(viewer))

    def explain(self, viewer: str, ids: Iterable[str]) -> list[str]:
        """One line per object, for failure messages."""
        by_id = {obj.id: obj for obj in self.stored}
        lines = []
        for object_id in sorted(ids):
            obj = by_id[object_id]
            lines.append(
                f"  {object_id} by {obj.submitter} level={self.level(obj)} "
                f"republication={obj.republication} markings={obj.submission.markings} "
                f"audience={obj.submission.audience} may_see({viewer})="
                f"{self.may_see(viewer, obj)}"
            )
        return lines
