"""Recording members' reports and sightings against network IOCs, and publishing the
network view: one hub-signed indicator per IOC, a new version whenever its corroboration
changes.

Runs inside the ingest transaction, so an original, its contribution and the network
indicator it changes commit together or not at all. The IOC rows are in ``dedup/iocs.py``,
the contribution rows in ``dedup/contributions.py``; this module composes them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from typing import Any

from sqlalchemy import delete, select
from sqlmodel import Session, col

from cityshield.bulk import chunks
from cityshield.db import read_snapshot, refresh_statistics
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
from cityshield.dedup.models import Contribution, NetworkIOC, NetworkView
from cityshield.dedup.publisher import Plan, apply_publication, plan_publication
from cityshield.dedup.queue import due, has_work, mark_pending, queued, queued_count
from cityshield.dedup.views import pending_views
from cityshield.members.caller import FEED_ROLE
from cityshield.policy.models import Audience
from cityshield.store.collections import NETWORK_ALIAS, get_collection_by_alias
from cityshield.store.locks import lock_collection, locks_taken
from cityshield.store.models import Member, StixObject
from cityshield.store.writer import Written
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
    (one batch into the ``network`` collection) and every member's view of it, in the
    session's transaction; returns how many were published.

    The network lock is taken first and held throughout: for publications inside a larger
    transaction (ageing, a key refresh), which are rare. The worker's publication of what
    ingest queued builds outside the lock instead (:func:`publish_pending`).
    """
    network = get_collection_by_alias(session, NETWORK_ALIAS)
    lock_collection(session, network.id)
    plan = plan_publication(
        session, context=context, ioc_ids=ioc_ids, queued=queued(session, ioc_ids), now_us=now_us
    )
    apply_publication(session, plan, locks_seen=None)
    return len(plan.objects)


def publish_pending(
    session: Session,
    *,
    context: HubContext,
    limit: int = 5000,
    built: Callable[[], None] | None = None,
) -> int:
    """Publish the IOCs queued since the last run (urgent ones first), and build a bounded
    part of new members' views; returns how many IOCs were gone through.

    Reads and builds from a snapshot, then writes in the session's transaction, which the
    caller commits (``dedup.publisher``): ``session`` must not have written anything, as
    it ends the session's transaction to begin the snapshot. ``built`` runs between the two
    (tests use it to interleave other writers deterministically). When other publishers
    keep writing in between, the last attempt builds under the lock, so a pass always ends.
    """
    network_id = get_collection_by_alias(session, NETWORK_ALIAS).id
    for _ in range(SNAPSHOT_ATTEMPTS):
        with read_snapshot(session):
            seen = locks_taken(session, network_id)
            plan = _plan_pending(session, context, limit)
        if plan is None:
            return 0
        if built is not None:
            built()
        if apply_publication(session, plan, locks_seen=seen):
            return plan.work
        session.rollback()  # another publisher wrote meanwhile: release the lock, rebuild
    lock_collection(session, network_id)
    plan = _plan_pending(session, context, limit)
    if plan is None:
        return 0
    apply_publication(session, plan, locks_seen=None)
    return plan.work


def refresh_network_statistics(session: Session) -> list[str]:
    """Analyse the tables ingest and publication grow, those that grew enough since the
    planner last counted them (``db.refresh_statistics``; PostgreSQL only); returns them.
    The worker runs it after each publication pass that published something, in a
    transaction of its own: the pass's views are visible without waiting for it, and the
    next pass follows it."""
    return refresh_statistics(session, GROWING_TABLES)


GROWING_TABLES: tuple[str, ...] = tuple(
    str(model.__table__.name)  # type: ignore[union-attr]
    for model in (StixObject, Audience, Contribution, NetworkIOC, NetworkView)
)
"""What ingest into ``submissions`` and its publication grow: the worker keeps their planner
statistics current (:func:`refresh_network_statistics`), so the pages read after a bulk
load are planned for the rows it added."""


SNAPSHOT_ATTEMPTS = 3
"""Plans built from a snapshot before one is built under the lock: a conflict needs another
publisher (ageing, a key refresh) to commit during the build, which is rare."""


def _plan_pending(session: Session, context: HubContext, limit: int) -> Plan | None:
    """The plan for what is queued and the members' views pending; None if nothing is."""
    waiting = due(session, limit)
    views = pending_views(session)
    if not waiting and not views:
        return None
    return plan_publication(
        session,
        context=context,
        ioc_ids=list(waiting),
        queued=waiting,
        now_us=now_micros(),
        pending=views,
    )


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
