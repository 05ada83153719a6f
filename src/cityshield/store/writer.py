"""Writing checked objects into a collection under the per-collection lock.

Shared by member ingest and by the hub's own publications (network indicators, hub
identity); knows nothing of members, signatures or dedup.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import select, update
from sqlmodel import Session, col

from cityshield.bulk import chunks, insert_rows
from cityshield.jsonvalue import same_json
from cityshield.stix.validation import validate_object
from cityshield.stix.vocabulary import version_stamp
from cityshield.store.locks import lock_collection
from cityshield.store.models import Collection, StixObject
from cityshield.store.versions import refresh_version_flags
from cityshield.timefmt import format_timestamp, now_micros, parse_timestamp

_OBJECTS = StixObject.__table__  # type: ignore[attr-defined]

Validator = Callable[[Any], str | None]


@dataclass
class Candidate:
    """A valid object waiting to be written, with the columns derived from it."""

    obj: dict[str, Any]
    object_id: str
    version_us: int | None
    body: str
    kid: str | None = None


@dataclass(frozen=True)
class Written:
    """An object that became a new row: what dedup and delivery hook onto."""

    obj: dict[str, Any]
    pk: int
    date_added_us: int
    submitter_id: int | None
    kid: str | None
    new_object: bool = False  # no version of this id was in the collection before


@dataclass
class WriteResult:
    """Per-object outcome in the TAXII status vocabulary, plus the rows actually added."""

    successes: list[dict[str, str]] = field(default_factory=list)
    failures: list[dict[str, str]] = field(default_factory=list)
    written: list[Written] = field(default_factory=list)


def object_version_us(obj: dict[str, Any]) -> int | None:
    """The TAXII version of an object: modified, else created, else None (date_added)."""
    stamp = version_stamp(obj)
    return parse_timestamp(stamp) if stamp is not None else None


def describe(obj: Any) -> dict[str, str]:
    """The id and version a status entry names an object by, whatever shape it has."""
    ident = obj.get("id") if isinstance(obj, dict) else ""
    entry: dict[str, str] = {"id": ident if isinstance(ident, str) else ""}
    stamp = version_stamp(obj) if isinstance(obj, dict) else None
    if stamp is not None:
        entry["version"] = stamp
    return entry


def check_objects(
    objects: list[Any], validate: Validator = validate_object
) -> tuple[list[Candidate], list[dict[str, str]]]:
    """Split objects into valid candidates and failures with reasons (no database work)."""
    candidates: list[Candidate] = []
    failures: list[dict[str, str]] = []
    for obj in objects:
        reason = validate(obj)
        if reason is None:
            try:
                version_us = object_version_us(obj)
                body = orjson.dumps(obj).decode()
            except (ValueError, TypeError, orjson.JSONEncodeError) as exc:
                reason = f"cannot store object: {exc}"
        if reason is not None:
            failures.append({**describe(obj), "message": reason})
            continue
        candidates.append(Candidate(obj, obj["id"], version_us, body))
    return candidates, failures


def write_candidates(
    session: Session,
    *,
    collection: Collection,
    candidates: list[Candidate],
    submitter_id: int | None,
    result: WriteResult,
    by_member: bool = False,
) -> None:
    """Write candidates in date_added order under the collection lock; duplicates of a
    stored (id, version) are successes without a new row.

    With ``by_member`` (a member's submission, not the hub's own publication) an object id
    already stored belongs to whoever submitted its first version: only that member may
    add versions (STIX 2.1: only the creator versions an object), with the same
    ``created_by_ref``, and a stored (id, version) may only be repeated with identical
    content. Checked under the lock, so two members racing for a new id cannot both win.
    """
    high_water = lock_collection(session, collection.id)
    existing, bodies = _existing_versions(
        session, collection.id, {c.object_id for c in candidates}, with_bodies=by_member
    )
    known_before = set(existing)
    added_us = max(now_micros(), high_water + 1)
    rows: list[dict[str, Any]] = []
    new: list[Candidate] = []
    seen: dict[tuple[str, int | None], Candidate] = {}
    for candidate in candidates:
        stored = existing.get(candidate.object_id)
        versions = set(stored) if stored else set()
        key = (candidate.object_id, candidate.version_us)
        duplicate = key in seen or (
            candidate.version_us in versions if candidate.version_us is not None else bool(versions)
        )
        if by_member:
            reason = _ownership_refusal(candidate, stored, bodies, seen.get(key), submitter_id)
            if reason is not None:
                result.failures.append({**describe(candidate.obj), "message": reason})
                continue
        seen.setdefault(key, candidate)
        result.successes.append(
            {"id": candidate.object_id, "version": _version_text(candidate, added_us)}
        )
        if duplicate:
            continue
        version_us = candidate.version_us if candidate.version_us is not None else added_us
        rows.append(
            {
                "collection_id": collection.id,
                "object_id": candidate.object_id,
                "type": candidate.obj["type"],
                "spec_version": candidate.obj.get("spec_version", "2.1"),
                "version_us": version_us,
                "date_added_us": added_us,
                "is_first": True,
                "is_latest": True,
                "submitter_id": submitter_id,
                "kid": candidate.kid,
                "body": candidate.body,
            }
        )
        new.append(candidate)
        existing.setdefault(candidate.object_id, {})[version_us] = submitter_id
        if by_member:
            bodies[(candidate.object_id, version_us)] = candidate.obj
        added_us += 1
    if not rows:
        return
    _set_flags_for_new_ids(rows, existing)
    insert_rows(session, _OBJECTS, rows)
    pks = _pks_by_date_added(session, collection.id, rows[0]["date_added_us"], added_us - 1)
    result.written.extend(
        Written(
            c.obj, pk, row["date_added_us"], submitter_id, c.kid, c.object_id not in known_before
        )
        for c, pk, row in zip(new, pks, rows, strict=True)
    )
    seen_before = [oid for oid, versions in existing.items() if len(versions) > 1]
    refresh_version_flags(session, collection_id=collection.id, object_ids=seen_before)
    session.execute(
        update(Collection)
        .where(col(Collection.id) == collection.id)
        .values(last_added_us=added_us - 1)
    )


Submitters = dict[int, int | None]
"""An object id's stored versions: version_us -> the member that submitted it."""


def _ownership_refusal(
    candidate: Candidate,
    stored: Submitters | None,
    bodies: dict[tuple[str, int], dict[str, Any]],
    earlier: Candidate | None,
    submitter_id: int | None,
) -> str | None:
    """Why a member may not write this object here, or None. The reason names no other
    member: it must not tell the sender whose object it tried to take over."""
    if earlier is not None and not same_json(earlier.obj, candidate.obj):
        return (
            "a different object with this id and version is in this envelope "
            "(reason: version-conflict)"
        )
    if not stored:
        return None
    first_us = min(stored)  # the first version is the earliest, whatever arrived first
    owner = stored[first_us]
    if owner is None or owner != submitter_id:
        return (
            f"{candidate.object_id} was first submitted by another member; only its "
            "submitter may create versions of it (reason: not-the-submitter)"
        )
    first_body = bodies.get((candidate.object_id, first_us), {})
    if candidate.obj.get("created_by_ref") != first_body.get("created_by_ref"):
        return (
            "created_by_ref differs from the first version's; a new version keeps its "
            "creator (reason: creator-changed)"
        )
    same_version = candidate.version_us if candidate.version_us is not None else first_us
    stored_body = bodies.get((candidate.object_id, same_version))
    if stored_body is not None and not same_json(stored_body, candidate.obj):
        return "a different object with this id and version exists (reason: version-conflict)"
    return None


def _pks_by_date_added(session: Session, collection_id: str, first: int, last: int) -> list[int]:
    """Primary keys of the rows just inserted, in date_added order. Read back by the unique
    (collection, date_added) under the lock we hold, because INSERT ... RETURNING with a
    guaranteed row order degrades to one statement per row on SQLite."""
    return list(
        session.execute(
            select(col(StixObject.pk))
            .where(
                col(StixObject.collection_id) == collection_id,
                col(StixObject.date_added_us).between(first, last),
            )
            .order_by(col(StixObject.date_added_us))
        ).scalars()
    )


def write_hub_objects(
    session: Session,
    *,
    collection: Collection,
    objects: list[dict[str, Any]],
    kid: str | None,
    on_behalf_of: int | None = None,
    validated: bool = False,
) -> WriteResult:
    """Store objects the hub wrote (and signed) itself, without a status resource;
    ``on_behalf_of`` is the member an anonymous republication stands for.

    Invalid objects here are a bug in the hub, so they raise instead of being reported.
    ``validated``: the caller built the objects and has just validated each (the network
    publisher, which must skip an invalid one rather than fail its batch); validating
    them again here would cost as much a second time and could not fail.
    """
    candidates, failures = check_objects(objects, _trusted if validated else validate_object)
    if failures:
        raise ValueError(f"hub-authored objects are invalid: {failures}")
    for candidate in candidates:
        candidate.kid = kid
    result = WriteResult()
    write_candidates(
        session,
        collection=collection,
        candidates=candidates,
        submitter_id=on_behalf_of,
        result=result,
    )
    return result


def _trusted(_obj: Any) -> str | None:
    """The validator of objects already validated by whoever built them."""
    return None


def _version_text(candidate: Candidate, added_us: int) -> str:
    return version_stamp(candidate.obj) or format_timestamp(added_us)


def _set_flags_for_new_ids(rows: list[dict[str, Any]], existing: dict[str, Submitters]) -> None:
    """First/latest flags for rows whose object has a single version; the rest are
    recomputed in SQL afterwards."""
    for row in rows:
        versions = existing[row["object_id"]]
        row["is_first"] = row["version_us"] == min(versions)
        row["is_latest"] = row["version_us"] == max(versions)


def _existing_versions(
    session: Session, collection_id: str, ids: set[str], *, with_bodies: bool
) -> tuple[dict[str, Submitters], dict[tuple[str, int], dict[str, Any]]]:
    """Every stored version of these ids (version_us -> submitter) and, for an
    ownership check, their parsed bodies: a candidate is compared with its id's first
    version and with the version it repeats. (Members' objects have few versions; the
    hub's many-versioned ones are not checked, so their bodies are not read.)"""
    found: dict[str, Submitters] = {}
    bodies: dict[tuple[str, int], dict[str, Any]] = {}
    columns: list[Any] = [
        StixObject.object_id,
        StixObject.version_us,
        StixObject.submitter_id,
    ]
    if with_bodies:
        columns.append(StixObject.body)
    for chunk in chunks(sorted(ids)):
        query = select(*columns).where(
            col(StixObject.collection_id) == collection_id, col(StixObject.object_id).in_(chunk)
        )
        for row in session.execute(query):
            object_id, version_us, submitter_id = row[:3]
            found.setdefault(object_id, {})[version_us] = submitter_id
            if with_bodies:
                bodies[(object_id, version_us)] = orjson.loads(row[3])
    return found, bodies
