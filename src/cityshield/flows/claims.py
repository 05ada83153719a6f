"""What a member's object may not claim: someone else's identity, a standard marking it
rewrote, or a marking the hub has never heard of.

Runs at ingest after validation and before signatures are checked, for members' objects
only (the hub's own publications are trusted). Each refusal is a per-object failure whose
reason names the object and the claim, never another member.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import select
from sqlmodel import Session, col

from cityshield.bulk import chunks
from cityshield.stix.vocabulary import TLP_LEVELS, is_official_definition
from cityshield.store.collections import HUB_ALIAS, collection_id_for
from cityshield.store.models import Collection, HubSetting, Member, StixObject
from cityshield.store.writer import Candidate, describe


@dataclass
class Claims:
    """Candidates split three ways: kept for writing, accepted without a write, refused."""

    kept: list[Candidate] = field(default_factory=list)
    no_ops: list[dict[str, str]] = field(default_factory=list)
    failures: list[dict[str, str]] = field(default_factory=list)


def check_claims(session: Session, candidates: list[Candidate]) -> Claims:
    """Sort members' candidates by what they claim.

    - A TLP marking-definition is accepted as a no-op when it is exactly the official one
      (members' tools bundle them; the hub serves its own copy), refused otherwise.
    - Member and hub identities are the hub's to publish: an object with one of their ids
      would be read as that member's (or the hub's) own words. So is everything else in
      the ``hub`` collection (extension-definitions, removed members' identities): a
      member's copy under the same id, served from another collection, would shadow the
      hub's in a tool that reads both (stix2's composite source takes the latest).
    - Every marking reference must name a TLP marking, a stored marking-definition or one
      in the same envelope: an unknown (mistyped) id would otherwise fall back to the
      default marking and be shared wider than its author meant.
    """
    claims = Claims()
    reserved = _reserved_identities(session)
    published = _hub_published(session, {c.object_id for c in candidates} - set(TLP_LEVELS))
    in_envelope = {
        c.object_id
        for c in candidates
        if c.obj.get("type") == "marking-definition" and c.object_id not in TLP_LEVELS
    }
    refs = {ref for c in candidates for ref in marking_refs(c.obj)} - set(TLP_LEVELS) - in_envelope
    known = in_envelope | set(TLP_LEVELS) | _stored_markings(session, refs)
    for candidate in candidates:
        reason = _refusal(candidate, reserved, published, known)
        if reason is None and candidate.object_id in TLP_LEVELS:
            claims.no_ops.append(describe(candidate.obj))  # its id and created
        elif reason is None:
            claims.kept.append(candidate)
        else:
            claims.failures.append({**describe(candidate.obj), "message": reason})
    return claims


def marking_refs(obj: dict[str, Any]) -> set[str]:
    """Every marking-definition id an object references (object-level and granular)."""
    refs = {ref for ref in obj.get("object_marking_refs") or [] if isinstance(ref, str)}
    for granular in obj.get("granular_markings") or []:
        ref = granular.get("marking_ref") if isinstance(granular, dict) else None
        if isinstance(ref, str):
            refs.add(ref)
    return refs


def _refusal(
    candidate: Candidate, reserved: set[str], published: set[str], known: set[str]
) -> str | None:
    obj, object_id = candidate.obj, candidate.object_id
    if object_id in TLP_LEVELS:
        if obj.get("type") == "marking-definition" and is_official_definition(obj):
            return None
        return (
            f"{object_id} is a standard TLP marking id but this is not its official "
            "definition; the hub serves the official one (reason: altered-standard-marking)"
        )
    if object_id in reserved:
        return (
            f"{object_id} is a member's or the hub's identity; the hub publishes those "
            "itself (reason: reserved-identity)"
        )
    if object_id in published:
        return (
            f"{object_id} is one of the hub's own publications (its hub collection); "
            "members cannot submit it (reason: reserved-hub-object)"
        )
    unknown = sorted(marking_refs(obj) - known)
    if unknown:
        return (
            f"unknown marking-definition {', '.join(unknown)}: not a TLP marking, not stored "
            "and not in this envelope (reason: unknown-marking)"
        )
    return None


def _reserved_identities(session: Session) -> set[str]:
    reserved = set(session.execute(select(col(Member.identity_id))).scalars())
    hub = session.get(HubSetting, "identity")
    if hub is not None:
        reserved.add(orjson.loads(hub.value)["id"])
    return reserved


def _hub_published(session: Session, ids: Iterable[str]) -> set[str]:
    """Which of these ids the hub publishes in its ``hub`` collection."""
    found: set[str] = set()
    for chunk in chunks(sorted(ids)):
        query = select(col(StixObject.object_id)).where(
            col(StixObject.collection_id) == collection_id_for(HUB_ALIAS),
            col(StixObject.object_id).in_(chunk),
        )
        found.update(session.execute(query).scalars())
    return found


def _stored_markings(session: Session, refs: Iterable[str]) -> set[str]:
    """Marking-definitions stored in any collection (looked up through the unique
    (collection, id, version) index: there is no index on the id alone)."""
    found: set[str] = set()
    collections = list(session.execute(select(col(Collection.id))).scalars())
    for chunk in chunks(sorted(refs)):
        query = select(col(StixObject.object_id)).where(
            col(StixObject.collection_id).in_(collections),
            col(StixObject.object_id).in_(chunk),
            col(StixObject.type) == "marking-definition",
        )
        found.update(session.execute(query).scalars())
    return found
