"""Recording members' reports and sightings against network IOCs, and publishing the
network view: one hub-signed indicator per IOC, a new version whenever its corroboration
changes.

Runs inside the ingest transaction, so an original, its contribution and the network
indicator it changes commit together or not at all.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlmodel import Session

from cityshield.bulk import chunks, conflict_insert, insert_rows
from cityshield.dedup.aggregate import corroborate
from cityshield.dedup.canonical import CanonicalIOC, canonical_ioc
from cityshield.dedup.context import NetworkContext
from cityshield.dedup.models import Contribution, NetworkIOC
from cityshield.dedup.publish import build_network_indicator, network_indicator_id
from cityshield.dedup.queue import dequeue, due, has_work, mark_pending, queued_count
from cityshield.dedup.views import build_pending_views, publish_views
from cityshield.policy import service as policy
from cityshield.policy.engine import explicit_level
from cityshield.policy.store import active_policy
from cityshield.store.collections import (
    NETWORK_ALIAS,
    SUBMISSIONS_ALIAS,
    collection_id_for,
    get_collection_by_alias,
)
from cityshield.store.models import StixObject
from cityshield.store.service import lock_collection
from cityshield.store.validation import validate_object
from cityshield.store.writer import Written, write_hub_objects
from cityshield.timefmt import now_micros, parse_timestamp

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Report:
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


def key_digest(key: str) -> bytes:
    """The indexed form of a canonical key: 128 bits of sha256 (collisions are out of
    reach; the index stays a third of the size of the hex digest's)."""
    return hashlib.sha256(key.encode()).digest()[:16]


def record_contributions(
    session: Session, *, written: list[Written], urgent: AbstractSet[str] = frozenset()
) -> None:
    """Turn newly stored indicators and sightings into contributions and mark the IOCs whose
    corroboration they change for publication (``urgent``: ids of objects whose urgent mark
    the hub honoured; their IOCs are published first).

    Publishing (building, signing and storing a new network version) is left to
    :func:`publish_pending`, which ``serve`` runs every fraction of a second: it would
    otherwise double the cost of ingest, and several cities reporting one IOC within a
    moment get one new version instead of one each.
    """
    now = now_micros()
    canonical: dict[str, CanonicalIOC] = {}
    reports: list[_Report] = []
    sightings: list[tuple[Written, str]] = []
    for item in written:
        obj = item.obj
        if obj.get("type") == "indicator" and obj.get("pattern_type") == "stix":
            try:
                ioc = canonical_ioc(obj["pattern"])
            except ValueError as exc:
                log.warning("no canonical key for %s: %s", obj.get("id"), exc)
                continue
            canonical[ioc.key] = ioc
            reports.append(_report(item, ioc.key, "indicator", now, urgent))
        elif obj.get("type") == "sighting" and isinstance(obj.get("sighting_of_ref"), str):
            sightings.append((item, obj["sighting_of_ref"]))
    iocs = _ensure_iocs(session, canonical.values(), now)
    sighting_reports = [
        (ioc_id, _report(item, "", "sighting", now, urgent))
        for item, target in sightings
        if (ioc_id := _ioc_for_reference(session, target)) is not None
    ]
    planned = [(iocs[r.ioc_key], r) for r in reports] + sighting_reports
    # An original whose id was new to the collection has no contributions yet.
    stored_before = {r.object_id for _, r in planned if not r.written.new_object}
    known = _contributions_by_object(session, stored_before)
    touched: set[int] = set()
    changed: dict[int, dict[str, Any]] = {}
    added: list[dict[str, Any]] = []
    for ioc_id, report in planned:
        previous = known.setdefault(report.object_id, [])
        touched |= _upsert(ioc_id, report, previous, changed, added)
    hurried = {ioc_id for ioc_id, report in planned if report.urgent} & touched
    mark_pending(session, touched, urgent=hurried)  # before contributions: see dedup.queue
    _save_contributions(session, changed=list(changed.values()), added=added)


def _report(item: Written, ioc_key: str, kind: str, now: int, urgent: AbstractSet[str]) -> _Report:
    obj = item.obj
    seen = item.date_added_us
    if kind == "sighting" and isinstance(obj.get("last_seen"), str):
        seen = min(parse_timestamp(obj["last_seen"]), now)
    valid_until = obj.get("valid_until")
    return _Report(
        ioc_key=ioc_key,
        object_id=obj["id"],
        kind=kind,
        written=item,
        version_us=parse_timestamp(obj.get("modified") or obj["created"]),
        confidence=obj.get("confidence"),
        indicator_types=",".join(obj.get("indicator_types") or []),
        tlp=explicit_level(obj),  # None when unmarked: the policy in force decides
        seen_us=seen,
        valid_until_us=parse_timestamp(valid_until) if isinstance(valid_until, str) else None,
        revoked=bool(obj.get("revoked")),
        urgent=obj["id"] in urgent,
    )


def _ensure_iocs(session: Session, found: Iterable[CanonicalIOC], now: int) -> dict[str, int]:
    """Find or create every IOC; returns canonical key -> IOC id.

    Known IOCs are looked up first, so only new ones pay for an insert; the insert is
    insert-if-absent, so concurrent writers of one key still create one row (a key another
    writer created in between is read back).
    """
    wanted = {key_digest(ioc.key): ioc for ioc in found}
    ids = _ioc_ids(session, list(wanted))
    missing = [wanted[h] for h in wanted if h not in ids]
    if missing:
        rows = [
            {
                "key_digest": key_digest(ioc.key),
                "key": ioc.key,
                "observable_type": ioc.observable_type,
                "value": ioc.value,
                "pattern": ioc.pattern,
                "state": "active",
                "created_us": now // 1000 * 1000,
            }
            for ioc in missing
        ]
        insert_new = conflict_insert(session, NetworkIOC)
        statement = insert_new.on_conflict_do_nothing(index_elements=["key_digest"])
        session.execute(statement, rows)  # no RETURNING: it costs 3x the insert itself
        ids.update(_ioc_ids(session, [row["key_digest"] for row in rows]))
    return {wanted[h].key: ioc_id for h, ioc_id in ids.items()}


def _ioc_ids(session: Session, hashes: list[bytes]) -> dict[bytes, int]:
    """key_digest -> id of the IOCs already stored, in IN queries of at most 500."""
    found: dict[bytes, int] = {}
    for chunk in chunks(hashes):
        query = select(NetworkIOC.key_digest, NetworkIOC.id).where(NetworkIOC.key_digest.in_(chunk))
        found.update({h: ioc_id for h, ioc_id in session.execute(query)})
    return found


def _ioc_for_reference(session: Session, ref: str) -> int | None:
    """The IOC a sighting is of: a network indicator, or an original that contributes."""
    by_network = session.execute(
        select(NetworkIOC.id).where(NetworkIOC.indicator_id == ref)
    ).scalar_one_or_none()
    if by_network is not None:
        return int(by_network)
    by_original = session.execute(
        _of_originals([ref], Contribution.ioc_id)
        .where(Contribution.kind == "indicator")
        .order_by(Contribution.version_us.desc())
        .limit(1)
    ).scalar_one_or_none()
    return int(by_original) if by_original is not None else None


_CONTRIBUTIONS = Contribution.__table__  # type: ignore[attr-defined]
_SUBMISSIONS = collection_id_for(SUBMISSIONS_ALIAS)


def _of_originals(object_ids: list[str], *columns: Any) -> Any:
    """Contributions of these originals, found through their rows in ``submissions`` (the
    unique (collection, id, version) index), not through an index of their own."""
    return (
        select(*columns)
        .join(StixObject, StixObject.pk == Contribution.stix_pk)
        .where(StixObject.collection_id == _SUBMISSIONS, StixObject.object_id.in_(object_ids))
    )


def _contributions_by_object(
    session: Session, object_ids: set[str]
) -> dict[str, list[dict[str, Any]]]:
    """Existing contributions of these originals as plain dicts, in a few IN queries (ORM
    instances cost more than the rest of dedup together at 500 objects an envelope)."""
    found: dict[str, list[dict[str, Any]]] = {}
    for chunk in chunks(sorted(object_ids)):
        query = _of_originals(list(chunk), *_CONTRIBUTIONS.columns)
        for row in session.execute(query).mappings():
            found.setdefault(row["object_id"], []).append(dict(row))
    return found


def _upsert(
    ioc_id: int,
    report: _Report,
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
)


def _save_contributions(
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


def publish(session: Session, *, context: NetworkContext, ioc_ids: list[int], now_us: int) -> int:
    """Recompute the IOCs' corroboration and write a new signed network version of each
    (one batch into the ``network`` collection); returns how many were published.

    The IOCs leave the queue *before* their contributions are read (see dedup.queue).
    """
    network = get_collection_by_alias(session, NETWORK_ALIAS)
    dequeue(session, ioc_ids)
    iocs = session.execute(select(NetworkIOC).where(NetworkIOC.id.in_(ioc_ids))).scalars().all()
    default_marking = active_policy(session).default_marking
    contributions: dict[int, list[Contribution]] = {}
    query = policy.counted_contributions(ioc_ids, default_marking=default_marking)
    for c in session.execute(query).all():
        contributions.setdefault(c.ioc_id, []).append(c)
    objects: list[dict[str, Any]] = []
    unpublishable: set[int | None] = set()
    for ioc in iocs:
        rows = contributions.get(ioc.id or 0, [])
        if not rows and ioc.published_us is None:
            continue  # nothing countable, nothing ever published: nothing to say
        summary = corroborate(
            rows,
            lifetime_us=context.lifetime_us(ioc.observable_type),
            now_us=now_us,
            default_marking=default_marking,
        )
        if ioc.state != "active" and summary.state == "active":
            _next_generation(ioc, now_us)
        if ioc.indicator_id is None:
            ioc.indicator_id = network_indicator_id(ioc.key, ioc.generation)
        modified = max(now_us // 1000 * 1000, (ioc.published_us or 0) + 1000)
        if ioc.benign_reason is None:
            ioc.benign_reason = context.allowlist.reason(ioc.observable_type, ioc.value)
        network_indicator = build_network_indicator(
            ioc, summary, context=context, modified_us=modified
        )
        reason = validate_object(network_indicator)
        if reason is not None:
            # An IOC stored before ingest refused its value, or a canonical form beyond the
            # pattern limits: skip it rather than fail the whole batch on every pass.
            log.warning("network indicator for IOC %r not published: %s", ioc.key[:200], reason)
            unpublishable.add(ioc.id)
            continue
        objects.append(network_indicator)
        # Ageing republishes when the next contribution ends, not only when the last does:
        # a member's view may count only that one, and must change when it expires rather
        # than when someone else's report next triggers a publication.
        ioc.state, ioc.expires_us, ioc.published_us = summary.state, summary.next_end_us, modified
        session.add(ioc)
    if objects:
        write_hub_objects(session, collection=network, objects=objects, kid=context.hub_kid)
    publishable = [ioc for ioc in iocs if ioc.id not in unpublishable]
    publish_views(session, context=context, iocs=publishable, now_us=now_us)
    return len(objects)


def _next_generation(ioc: NetworkIOC, now_us: int) -> None:
    """A revoked network indicator may not be un-revoked (STIX 2.1, 3.6.2): an IOC reported
    again after it was revoked starts over as a new indicator."""
    ioc.generation += 1
    ioc.indicator_id = network_indicator_id(ioc.key, ioc.generation)
    ioc.created_us = now_us // 1000 * 1000
    ioc.published_us = None


def publish_pending(session: Session, *, context: NetworkContext, limit: int = 5000) -> int:
    """Publish the IOCs queued since the last run; returns how many.

    The network collection lock is taken first, so concurrent publishers (several
    workers) take turns and never publish one change twice.
    """
    network = get_collection_by_alias(session, NETWORK_ALIAS)
    lock_collection(session, network.id)
    waiting = due(session, limit)
    now = now_micros()
    published = publish(session, context=context, ioc_ids=waiting, now_us=now) if waiting else 0
    return published + build_pending_views(session, context=context, now_us=now)


def has_pending_publication(session: Session) -> bool:
    """Whether :func:`publish_pending` has work: the worker's early trigger."""
    return has_work(session)


def pending_publication_count(session: Session) -> int:
    """How many IOCs :func:`publish_pending` has yet to publish."""
    return queued_count(session)


def withdraw_originals(session: Session, stix_pks: list[int]) -> None:
    """Before originals are deleted: their contributions go with them and the IOCs they
    vouched for are queued, so the network view stops counting them at the next publish.
    (An older version left behind does not start contributing again: it was superseded.)"""
    for chunk in chunks(stix_pks):
        vouched = select(Contribution.ioc_id).where(Contribution.stix_pk.in_(chunk)).distinct()
        mark_pending(session, session.execute(vouched).scalars().all())
        session.execute(delete(Contribution).where(Contribution.stix_pk.in_(chunk)))


def refresh_for_key(session: Session, *, context: NetworkContext, kid: str) -> int:
    """Republish the IOCs an original signed by ``kid`` contributes to: after a
    compromised-key quarantine (or its release) the network view must count only what
    every reader may still see."""
    ioc_ids = (
        session.execute(
            select(Contribution.ioc_id)
            .join(StixObject, StixObject.pk == Contribution.stix_pk)
            .where(StixObject.kid == kid)
            .distinct()
        )
        .scalars()
        .all()
    )
    return _publish_in_batches(session, context, list(ioc_ids), now_micros())


def age_network(session: Session, *, context: NetworkContext, now_us: int | None = None) -> int:
    """Republish, as revoked, active IOCs whose every contribution has expired; returns the
    count. Run periodically so firewalls stop blocking stale addresses."""
    now = now_us or now_micros()
    expired = (
        session.execute(
            select(NetworkIOC.id).where(
                NetworkIOC.state == "active",
                NetworkIOC.expires_us.is_not(None),
                NetworkIOC.expires_us <= now,
            )
        )
        .scalars()
        .all()
    )
    return _publish_in_batches(session, context, list(expired), now)


def _publish_in_batches(
    session: Session, context: NetworkContext, ioc_ids: list[int], now_us: int
) -> int:
    """:func:`publish` a list of any length (SQLite binds at most 32,766 values a query)."""
    return sum(
        publish(session, context=context, ioc_ids=list(batch), now_us=now_us)
        for batch in chunks(ioc_ids, 5000)
    )
