"""The one ingest path: every object that enters the hub (TAXII POST, CLI submit, feed
pulls) goes through :func:`add_objects`.

Objects are validated one by one before any lock is taken (validation is the CPU-heavy
part); then every valid object is written in a single transaction together with the status
resource. An object is written whole or not at all, and a failure of one object never
costs the others in the same envelope.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import insert, select, update
from sqlmodel import Session

from cityshield.errors import InvalidEnvelope
from cityshield.policy import service as policy
from cityshield.policy.caller import Caller
from cityshield.signing.verification import signature_reasons
from cityshield.store.models import Collection, Status, StixObject
from cityshield.store.service import lock_collection, refresh_version_flags
from cityshield.store.validation import validate_object
from cityshield.timefmt import format_timestamp, now_micros, parse_timestamp

Validator = Callable[[Any], str | None]
_IN_CHUNK = 500


@dataclass
class _Candidate:
    """A valid object waiting to be written, with the columns derived from it."""

    obj: dict[str, Any]
    object_id: str
    version_us: int | None
    body: str
    kid: str | None = None


@dataclass
class IngestResult:
    """What happened to each object of one envelope, in the TAXII status vocabulary."""

    successes: list[dict[str, str]] = field(default_factory=list)
    failures: list[dict[str, str]] = field(default_factory=list)


def envelope_objects(envelope: Any) -> list[Any]:
    """The ``objects`` list of a TAXII envelope; InvalidEnvelope if there is none."""
    if not isinstance(envelope, dict):
        raise InvalidEnvelope("The request body must be a TAXII envelope: a JSON object.")
    objects = envelope.get("objects")
    if not isinstance(objects, list):
        raise InvalidEnvelope("The envelope must have an 'objects' list.")
    return objects


def object_version_us(obj: dict[str, Any]) -> int | None:
    """The TAXII version of an object: modified, else created, else None (date_added)."""
    stamp = obj.get("modified") or obj.get("created")
    return parse_timestamp(stamp) if isinstance(stamp, str) else None


def _describe(obj: Any) -> dict[str, str]:
    entry: dict[str, str] = {"id": obj.get("id") if isinstance(obj, dict) else ""}
    if not isinstance(entry["id"], str):
        entry["id"] = ""
    if isinstance(obj, dict):
        stamp = obj.get("modified") or obj.get("created")
        if isinstance(stamp, str):
            entry["version"] = stamp
    return entry


def check_objects(
    objects: list[Any], validate: Validator = validate_object
) -> tuple[list[_Candidate], list[dict[str, str]]]:
    """Split objects into valid candidates and failures with reasons (no database work)."""
    candidates: list[_Candidate] = []
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
            failures.append({**_describe(obj), "message": reason})
            continue
        candidates.append(_Candidate(obj, obj["id"], version_us, body))
    return candidates, failures


def add_objects(
    session: Session,
    *,
    caller: Caller,
    collection: Collection,
    objects: list[Any],
    validate: Validator = validate_object,
) -> Status:
    """Validate, verify signatures and store an envelope's objects; return the status.

    The same (id, version) posted twice is one record and a success both times.
    """
    policy.require_can_write(caller, collection)
    request_us = now_micros()
    candidates, failures = check_objects(objects, validate)
    candidates = _signed_by_caller(session, caller, candidates, failures, request_us)
    result = IngestResult(failures=failures)
    if candidates:
        _write(
            session,
            submitter_id=caller.member_id,
            collection=collection,
            candidates=candidates,
            result=result,
        )
    status = Status(
        id=str(uuid.uuid4()),
        member_id=caller.member_id,
        collection_id=collection.id,
        status="complete",
        request_us=request_us,
        total_count=len(objects),
        success_count=len(result.successes),
        failure_count=len(result.failures),
        pending_count=0,
        details=orjson.dumps(
            {"successes": result.successes, "failures": result.failures, "pendings": []}
        ).decode(),
    )
    session.add(status)
    session.flush()
    return status


def add_hub_objects(
    session: Session, *, collection: Collection, objects: list[dict[str, Any]], kid: str
) -> IngestResult:
    """Store objects the hub wrote and signed itself (no member, no status resource).

    Invalid objects here are a bug in the hub, so they raise instead of being reported.
    """
    candidates, failures = check_objects(objects)
    if failures:
        raise ValueError(f"hub-authored objects are invalid: {failures}")
    for candidate in candidates:
        candidate.kid = kid
    result = IngestResult()
    _write(session, submitter_id=None, collection=collection, candidates=candidates, result=result)
    return result


def _signed_by_caller(
    session: Session,
    caller: Caller,
    candidates: list[_Candidate],
    failures: list[dict[str, str]],
    at_us: int,
) -> list[_Candidate]:
    """Keep the candidates validly signed by the caller; the others join ``failures``."""
    reasons, kids = signature_reasons(
        session, caller=caller, objects=[c.obj for c in candidates], at_us=at_us
    )
    kept: list[_Candidate] = []
    for candidate, reason, kid in zip(candidates, reasons, kids, strict=True):
        if reason is None:
            candidate.kid = kid
            kept.append(candidate)
        else:
            failures.append({**_describe(candidate.obj), "message": reason})
    return kept


def _write(
    session: Session,
    *,
    submitter_id: int | None,
    collection: Collection,
    candidates: list[_Candidate],
    result: IngestResult,
) -> None:
    high_water = lock_collection(session, collection.id)
    existing = _existing_versions(session, collection.id, {c.object_id for c in candidates})
    added_us = max(now_micros(), high_water + 1)
    rows: list[dict[str, Any]] = []
    seen: set[tuple[str, int | None]] = set()
    for candidate in candidates:
        versions = existing.get(candidate.object_id, set())
        key = (candidate.object_id, candidate.version_us)
        duplicate = key in seen or (
            candidate.version_us in versions if candidate.version_us is not None else bool(versions)
        )
        seen.add(key)
        entry = {"id": candidate.object_id, "version": _version_text(candidate, added_us)}
        result.successes.append(entry)
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
        existing.setdefault(candidate.object_id, set()).add(version_us)
        added_us += 1
    if not rows:
        return
    _set_flags_for_new_ids(rows, existing)
    session.execute(insert(StixObject), rows)
    seen_before = [oid for oid, versions in existing.items() if len(versions) > 1]
    refresh_version_flags(session, collection_id=collection.id, object_ids=seen_before)
    session.execute(
        update(Collection).where(Collection.id == collection.id).values(last_added_us=added_us - 1)
    )


def _version_text(candidate: _Candidate, added_us: int) -> str:
    stamp = candidate.obj.get("modified") or candidate.obj.get("created")
    return stamp if isinstance(stamp, str) else format_timestamp(added_us)


def _set_flags_for_new_ids(rows: list[dict[str, Any]], existing: dict[str, set[int]]) -> None:
    """First/latest flags for rows whose object has a single version; the rest are
    recomputed in SQL afterwards."""
    for row in rows:
        versions = existing[row["object_id"]]
        row["is_first"] = row["version_us"] == min(versions)
        row["is_latest"] = row["version_us"] == max(versions)


def _existing_versions(session: Session, collection_id: str, ids: set[str]) -> dict[str, set[int]]:
    found: dict[str, set[int]] = {}
    ordered = sorted(ids)
    for start in range(0, len(ordered), _IN_CHUNK):
        chunk = ordered[start : start + _IN_CHUNK]
        query = select(StixObject.object_id, StixObject.version_us).where(
            StixObject.collection_id == collection_id, StixObject.object_id.in_(chunk)
        )
        for object_id, version_us in session.execute(query):
            found.setdefault(object_id, set()).add(version_us)
    return found
