"""Recording members' reports and sightings against network IOCs, and publishing the
network view: one hub-signed indicator per IOC, a new version whenever its corroboration
changes.

Runs inside the ingest transaction, so an original, its contribution and the network
indicator it changes commit together or not at all. The IOC rows are in ``dedup/iocs.py``,
the contribution rows in ``dedup/contributions.py``; this module composes them.
"""

from __future__ import annotations

import logging
from collections.abc import Set as AbstractSet
from typing import Any

from sqlalchemy import delete, select
from sqlmodel import Session, col

from cityshield.bulk import chunks
from cityshield.dedup.aggregate import corroborate
from cityshield.dedup.canonical import CanonicalIOC, canonical_ioc
from cityshield.dedup.contributions import (
    Report,
    contributions_by_object,
    report_of,
    save_contributions,
    upsert,
)
from cityshield.dedup.hub_context import HubContext
from cityshield.dedup.iocs import ensure_iocs, ioc_for_reference
from cityshield.dedup.models import Contribution, NetworkIOC
from cityshield.dedup.publish import build_network_indicator, network_indicator_id
from cityshield.dedup.queue import dequeue, due, has_work, mark_pending, queued_count
from cityshield.dedup.views import build_pending_views, publish_views
from cityshield.members.caller import FEED_ROLE
from cityshield.policy import service as policy
from cityshield.policy.active import active_policy
from cityshield.stix.validation import validate_object
from cityshield.store.collections import NETWORK_ALIAS, get_collection_by_alias
from cityshield.store.locks import lock_collection
from cityshield.store.models import Member, StixObject
from cityshield.store.writer import Written, write_hub_objects
from cityshield.timefmt import now_micros

log = logging.getLogger(__name__)


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
    feeds = feed_principals(session, {w.submitter_id for w in written})
    canonical: dict[str, CanonicalIOC] = {}
    reports: list[Report] = []
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
            reports.append(report_of(item, ioc.key, "indicator", now, urgent, feeds))
        elif obj.get("type") == "sighting" and isinstance(obj.get("sighting_of_ref"), str):
            sightings.append((item, obj["sighting_of_ref"]))
    iocs = ensure_iocs(session, canonical.values(), now)
    sighting_reports = [
        (ioc_id, report_of(item, "", "sighting", now, urgent, feeds))
        for item, target in sightings
        if (ioc_id := ioc_for_reference(session, target, item.submitter_id)) is not None
    ]
    planned = [(iocs[r.ioc_key], r) for r in reports] + sighting_reports
    # An original whose id was new to the collection has no contributions yet.
    stored_before = {r.object_id for _, r in planned if not r.written.new_object}
    known = contributions_by_object(session, stored_before)
    touched: set[int] = set()
    changed: dict[int, dict[str, Any]] = {}
    added: list[dict[str, Any]] = []
    for ioc_id, report in planned:
        previous = known.setdefault(report.object_id, [])
        touched |= upsert(ioc_id, report, previous, changed, added)
    hurried = {ioc_id for ioc_id, report in planned if report.urgent} & touched
    mark_pending(session, touched, urgent=hurried)  # before contributions: see dedup.queue
    save_contributions(session, changed=list(changed.values()), added=added)


def feed_principals(session: Session, member_ids: AbstractSet[int | None]) -> set[int]:
    """Which of these submitters are feeds' principals: their reports are the feeds'."""
    wanted = sorted(i for i in member_ids if i is not None)
    if not wanted:
        return set()
    query = select(col(Member.id)).where(col(Member.id).in_(wanted), col(Member.role) == FEED_ROLE)
    return {int(i) for i in session.execute(query).scalars()}


def publish(session: Session, *, context: HubContext, ioc_ids: list[int], now_us: int) -> int:
    """Recompute the IOCs' corroboration and write a new signed network version of each
    (one batch into the ``network`` collection); returns how many were published.

    The IOCs leave the queue *before* their contributions are read (see dedup.queue).
    """
    network = get_collection_by_alias(session, NETWORK_ALIAS)
    dequeue(session, ioc_ids)
    iocs = (
        session.execute(select(NetworkIOC).where(col(NetworkIOC.id).in_(ioc_ids))).scalars().all()
    )
    default_marking = active_policy(session).default_marking
    contributions: dict[int, list[Contribution]] = {}
    query = policy.counted_contributions(ioc_ids, default_marking=default_marking)
    for c in session.execute(query).all():
        contributions.setdefault(c.ioc_id, []).append(c)  # type: ignore[arg-type]  # plain rows with the model's attributes (counted_contributions)
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


def publish_pending(session: Session, *, context: HubContext, limit: int = 5000) -> int:
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
        vouched = (
            select(col(Contribution.ioc_id)).where(col(Contribution.stix_pk).in_(chunk)).distinct()
        )
        mark_pending(session, session.execute(vouched).scalars().all())
        session.execute(delete(Contribution).where(col(Contribution.stix_pk).in_(chunk)))


def refresh_for_key(session: Session, *, context: HubContext, kid: str) -> int:
    """Republish the IOCs an original signed by ``kid`` contributes to: after a
    compromised-key quarantine (or its release) the network view must count only what
    every reader may still see."""
    ioc_ids = (
        session.execute(
            select(col(Contribution.ioc_id))
            .join(StixObject, col(StixObject.pk) == col(Contribution.stix_pk))
            .where(col(StixObject.kid) == kid)
            .distinct()
        )
        .scalars()
        .all()
    )
    return _publish_in_batches(session, context, list(ioc_ids), now_micros())


def age_network(session: Session, *, context: HubContext, now_us: int | None = None) -> int:
    """Republish, as revoked, active IOCs whose every contribution has expired; returns the
    count. Run periodically so firewalls stop blocking stale addresses."""
    now = now_us or now_micros()
    expired = (
        session.execute(
            select(col(NetworkIOC.id)).where(
                col(NetworkIOC.state) == "active",
                col(NetworkIOC.expires_us).is_not(None),
                col(NetworkIOC.expires_us) <= now,
            )
        )
        .scalars()
        .all()
    )
    return _publish_in_batches(session, context, list(expired), now)


def _publish_in_batches(
    session: Session, context: HubContext, ioc_ids: list[int], now_us: int
) -> int:
    """:func:`publish` a list of any length (SQLite binds at most 32,766 values a query)."""
    return sum(
        publish(session, context=context, ioc_ids=list(batch), now_us=now_us)
        for batch in chunks(ioc_ids, 5000)
    )
