"""Contributions: what each member's original indicator or sighting says about a network
IOC, kept as plain dicts while an ingest batch is recorded and written with executemany."""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlmodel import Session, col

from cityshield.bulk import chunks, insert_rows
from cityshield.dedup.models import Contribution
from cityshield.policy.engine import explicit_level
from cityshield.stix.vocabulary import version_stamp
from cityshield.store.collections import SUBMISSIONS_ALIAS, collection_id_for
from cityshield.store.models import StixObject
from cityshield.store.writer import Written
from cityshield.timefmt import parse_timestamp

__all__ = [
    "Report",
    "contributions_by_object",
    "of_originals",
    "report_of",
    "save_contributions",
    "upsert",
]


@dataclass(frozen=True)
class Report:
    """One contribution to record, derived from a stored original."""

    ioc_key: str
    object_id: str
    kind: str
    written: Written
    version_us: int
    confidence: int | None
    indicator_types: str
    tlp: str | None
    seen_us: int
    valid_until_us: int | None
    revoked: bool
    urgent: bool
    from_feed: bool = False


def report_of(
    item: Written,
    ioc_key: str,
    kind: str,
    now: int,
    urgent: AbstractSet[str] = frozenset(),
    feeds: AbstractSet[int] = frozenset(),
) -> Report:
    """The contribution a stored indicator or sighting makes (``kind``), as of ``now``
    (``feeds``: the submitters that are feeds' principals)."""
    obj = item.obj
    seen = item.date_added_us
    if kind == "sighting" and isinstance(obj.get("last_seen"), str):
        seen = min(parse_timestamp(obj["last_seen"]), now)
    valid_until = obj.get("valid_until")
    version = version_stamp(obj)
    return Report(
        ioc_key=ioc_key,
        object_id=obj["id"],
        kind=kind,
        written=item,
        version_us=parse_timestamp(version) if version else item.date_added_us,
        confidence=obj.get("confidence"),
        indicator_types=",".join(obj.get("indicator_types") or []),
        tlp=explicit_level(obj),  # None when unmarked: the policy in force decides
        seen_us=seen,
        valid_until_us=parse_timestamp(valid_until) if isinstance(valid_until, str) else None,
        revoked=bool(obj.get("revoked")),
        urgent=obj["id"] in urgent,
        from_feed=item.submitter_id in feeds,
    )


_CONTRIBUTIONS = Contribution.__table__  # type: ignore[attr-defined]
_SUBMISSIONS = collection_id_for(SUBMISSIONS_ALIAS)


def of_originals(object_ids: list[str], *columns: Any) -> Any:
    """Contributions of these originals, found through their rows in ``submissions`` (the
    unique (collection, id, version) index), not through an index of their own."""
    return (
        select(*columns)
        .join(StixObject, col(StixObject.pk) == col(Contribution.stix_pk))
        .where(
            col(StixObject.collection_id) == _SUBMISSIONS, col(StixObject.object_id).in_(object_ids)
        )
    )


def contributions_by_object(
    session: Session, object_ids: set[str]
) -> dict[str, list[dict[str, Any]]]:
    """Existing contributions of these originals as plain dicts, in a few IN queries (ORM
    instances cost more than the rest of dedup together at 500 objects an envelope)."""
    found: dict[str, list[dict[str, Any]]] = {}
    for chunk in chunks(sorted(object_ids)):
        query = of_originals(list(chunk), *_CONTRIBUTIONS.columns)
        for row in session.execute(query).mappings():
            found.setdefault(row["object_id"], []).append(dict(row))
    return found


def upsert(
    ioc_id: int,
    report: Report,
    previous: list[dict[str, Any]],
    changed: dict[int, dict[str, Any]],
    added: list[dict[str, Any]],
) -> set[int]:
    """Record a report in memory; returns the IOCs whose corroboration changed.

    Only the newest version of an original counts. A new version whose pattern names a
    different IOC withdraws the original's contribution to the old one. ``previous`` holds
    the original's known contributions and stays current for later reports in the batch;
    rows to update collect in ``changed`` (by id), new ones in ``added``.
    """
    if any(c["version_us"] > report.version_us for c in previous):
        return set()  # an older version arriving late changes nothing
    touched = {ioc_id}
    for old in previous:
        if old["ioc_id"] != ioc_id and not old["revoked"]:
            old["revoked"] = True
            touched.add(old["ioc_id"])
            if old.get("id") is not None:
                changed[old["id"]] = old
    current = next((c for c in previous if c["ioc_id"] == ioc_id), None)
    if current is None:
        current = {
            "ioc_id": ioc_id,
            "object_id": report.object_id,
            "kind": report.kind,
            "first_seen_us": report.seen_us,
            "last_seen_us": report.seen_us,
        }
        previous.append(current)
        added.append(current)
    elif current.get("id") is not None:
        changed[current["id"]] = current
    current.update(
        member_id=report.written.submitter_id,
        stix_pk=report.written.pk,
        version_us=report.version_us,
        confidence=report.confidence,
        indicator_types=report.indicator_types[:500],
        tlp=report.tlp,
        last_seen_us=max(current["last_seen_us"], report.seen_us),
        valid_until_us=report.valid_until_us,
        revoked=report.revoked,
        urgent=report.urgent,
        from_feed=report.from_feed,
    )
    return touched


_UPDATABLE = (
    "member_id",
    "stix_pk",
    "version_us",
    "confidence",
    "indicator_types",
    "tlp",
    "last_seen_us",
    "valid_until_us",
    "revoked",
    "urgent",
    "from_feed",
)


def save_contributions(
    session: Session, *, changed: list[dict[str, Any]], added: list[dict[str, Any]]
) -> None:
    """Write the batch's contribution changes with two executemany statements."""
    if added:
        insert_rows(session, _CONTRIBUTIONS, added)
    if changed:
        statement = (
            update(_CONTRIBUTIONS)
            .where(_CONTRIBUTIONS.c.id == bindparam("row_id"))
            .values({name: bindparam(name) for name in _UPDATABLE})
        )
        session.execute(
            statement, [{"row_id": c["id"], **{n: c[n] for n in _UPDATABLE}} for c in changed]
        )
