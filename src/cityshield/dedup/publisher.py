"""Publishing the network view in two steps: a plan, read and built (aggregates computed,
indicators signed) without writing anything, and its application, which writes it in a
short transaction under the network collection's lock.

Building and signing is most of a publication's cost. Done inside the write transaction it
held SQLite's one write lock (and, on PostgreSQL, the network lock) for the whole build,
and every ingest waited for it (bench/README.md, "Where the time goes"). Now the plan is
made from a read snapshot that no writer waits for (``db.read_snapshot``), and applying it
takes the lock only to write. Two things may have happened in between, and both are
checked under the lock:

* an ingest queued some of the plan's IOCs again (a report the plan did not count): only
  queue rows whose ``seq`` is the one the plan read leave the queue; the others stay and
  are published by the next pass (``dedup.queue``). What the plan built for them is still
  a consistent, older state, and is written.
* another publisher (ageing, a key refresh, a second worker) wrote IOCs or views the plan
  read: the network lock counts its holders (``store.locks.locks_taken``), so the plan is
  applied only if nobody took that lock since the snapshot; otherwise it is dropped.

Everything else a plan depends on (contributions, audiences, the policy, members) changes
only together with queueing the IOCs concerned, or adds a member whose views are built
from scratch anyway.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, func, update
from sqlmodel import Session

from cityshield.dedup.aggregate import corroborate
from cityshield.dedup.hub_context import HubContext
from cityshield.dedup.iocs import IOCRow, load_iocs
from cityshield.dedup.models import NetworkIOC
from cityshield.dedup.publish import Subject, build_network_indicator, network_indicator_id
from cityshield.dedup.queue import dequeue_unchanged
from cityshield.dedup.views import (
    Counted,
    PendingViews,
    ViewChanges,
    plan_views,
    save_pending_views,
    save_views,
    viewers,
)
from cityshield.members.caller import Caller
from cityshield.members.service import caller_for
from cityshield.policy.active import active_policy
from cityshield.stix.validation import validate_object
from cityshield.store.collections import NETWORK_ALIAS, get_collection_by_alias
from cityshield.store.locks import lock_collection, locks_taken
from cityshield.store.models import Member
from cityshield.store.writer import write_hub_objects
from cityshield.timefmt import now_micros

log = logging.getLogger(__name__)

_IOCS = NetworkIOC.__table__  # type: ignore[attr-defined]
_PUBLISHED = ("state", "expires_us", "published_us", "generation", "indicator_id", "created_us")


@dataclass
class Plan:
    """A publication read and built, not yet written."""

    kid: str
    """The hub key's id, which signed the plan's indicators."""
    queued: dict[int, int] = field(default_factory=dict)
    """The queue rows it answers (IOC id -> seq as read)."""
    objects: list[dict[str, Any]] = field(default_factory=list)
    """Signed network-wide indicators, one per IOC published."""
    iocs: list[IOCRow] = field(default_factory=list)
    """The IOC rows those were built from, as they are to be stored."""
    views: ViewChanges = field(default_factory=ViewChanges)
    pending: list[PendingViews] = field(default_factory=list)
    """Members' views built from scratch, and how far."""

    @property
    def work(self) -> int:
        """IOCs published plus IOCs gone through for members' pending views."""
        return len(self.objects) + sum(len(p.ioc_ids) for p in self.pending)


def plan_publication(
    session: Session,
    *,
    context: HubContext,
    ioc_ids: Sequence[int],
    queued: dict[int, int],
    now_us: int,
    pending: Sequence[PendingViews] = (),
) -> Plan:
    """Recompute the IOCs' corroboration and build and sign a new network version of each,
    and every member's view of it (plus the ``pending`` members' views); reads only."""
    plan = Plan(kid=context.hub_kid, queued=dict(queued), pending=list(pending))
    iocs = load_iocs(session, ioc_ids)
    default_marking = active_policy(session).default_marking
    extra = [i for p in plan.pending for i in p.ioc_ids]
    counted = Counted.read(session, [*ioc_ids, *extra], default_marking)
    unpublishable: set[int] = set()
    for ioc in iocs:
        rows = counted.rows.get(ioc.id, [])
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
            _subject(ioc), summary, context=context, modified_us=modified
        )
        reason = validate_object(_core(network_indicator))  # once: write_hub_objects trusts it
        if reason is not None:
            # An IOC stored before ingest refused its value, or a canonical form beyond the
            # pattern limits: skip it rather than fail the whole batch on every pass.
            log.warning("network indicator for IOC %r not published: %s", ioc.key[:200], reason)
            unpublishable.add(ioc.id)
            continue
        plan.objects.append(network_indicator)
        # Ageing republishes when the next contribution ends, not only when the last does:
        # a member's view may count only that one, and must change when it expires rather
        # than when someone else's report next triggers a publication.
        ioc.state, ioc.expires_us, ioc.published_us = summary.state, summary.next_end_us, modified
        plan.iocs.append(ioc)
    publishable = [ioc for ioc in iocs if ioc.id not in unpublishable]
    wanted = _wanted_views(session, viewers(session), publishable, plan.pending)
    plan.views = plan_views(session, context=context, wanted=wanted, counted=counted, now_us=now_us)
    return plan


def _core(indicator: dict[str, Any]) -> dict[str, Any]:
    """The indicator without its extensions, for validation: what can make it invalid is a
    stored pattern or value (checked here, before publishing), while the corroboration and
    signature extensions are built by the hub from typed values. Walking them (the refs of
    every contributing report) was a fifth of the publisher's CPU; a test validates whole
    published indicators (``tests/integration/test_network_view.py``)."""
    return {key: value for key, value in indicator.items() if key != "extensions"}


def _subject(ioc: IOCRow) -> Subject:
    assert ioc.indicator_id is not None
    return Subject(
        ioc.indicator_id,
        ioc.key,
        ioc.pattern,
        ioc.observable_type,
        ioc.value,
        ioc.created_us,
        ioc.benign_reason,
    )


def _next_generation(ioc: IOCRow, now_us: int) -> None:
    """A revoked network indicator may not be un-revoked (STIX 2.1, 3.6.2): an IOC reported
    again after it was revoked starts over as a new indicator."""
    ioc.generation += 1
    ioc.indicator_id = network_indicator_id(ioc.key, ioc.generation)
    ioc.created_us = now_us // 1000 * 1000
    ioc.published_us = None


def _wanted_views(
    session: Session,
    callers: list[Caller],
    published: list[IOCRow],
    pending: Sequence[PendingViews],
) -> list[tuple[Caller, list[IOCRow]]]:
    """Which views to bring up to date: every member's of the IOCs published, and a
    pending member's also of its next IOCs (as the publication just changed them, where
    it changed them)."""
    wanted: dict[int, tuple[Caller, list[IOCRow]]] = {
        caller.member_id: (caller, list(published)) for caller in callers
    }
    fresh = {ioc.id: ioc for ioc in published}
    for item in pending:
        member = session.get(Member, item.member_id)
        if member is None or not item.ioc_ids:
            continue
        caller, iocs = wanted.get(item.member_id) or (caller_for(session, member), [])
        have = {ioc.id for ioc in iocs}
        extra = [i for i in item.ioc_ids if i not in have]
        loaded = {ioc.id: ioc for ioc in load_iocs(session, [i for i in extra if i not in fresh])}
        iocs = iocs + [fresh.get(i) or loaded[i] for i in extra if i in fresh or i in loaded]
        wanted[item.member_id] = (caller, iocs)
    return list(wanted.values())


def apply_publication(session: Session, plan: Plan, *, locks_seen: int | None) -> bool:
    """Write a plan under the network lock; False (nothing written) if another publisher
    took the lock since ``locks_seen`` was read (None: the caller held the lock all along).

    The caller commits (or, on False, rolls back to release the lock)."""
    network = get_collection_by_alias(session, NETWORK_ALIAS)
    lock_collection(session, network.id)
    if locks_seen is not None and locks_taken(session, network.id) != locks_seen + 1:
        return False
    dequeue_unchanged(session, plan.queued)
    if plan.objects:
        write_hub_objects(
            session, collection=network, objects=plan.objects, kid=plan.kid, validated=True
        )
    _save_iocs(session, plan.iocs)
    save_views(session, plan.views, now_us=now_micros())
    save_pending_views(session, plan.pending)
    return True


def _save_iocs(session: Session, iocs: list[IOCRow]) -> None:
    """Store what the publication changed on its IOC rows, in one statement. A benign
    reason already stored stays: an admin may have withdrawn the IOC since the plan was
    read (which queued it again)."""
    if not iocs:
        return
    values: dict[str, Any] = {name: bindparam(name) for name in _PUBLISHED}
    values["benign_reason"] = func.coalesce(_IOCS.c.benign_reason, bindparam("benign_reason"))
    statement = update(_IOCS).where(_IOCS.c.id == bindparam("ioc_id")).values(values)
    rows = [
        {"ioc_id": ioc.id, "benign_reason": ioc.benign_reason}
        | {name: getattr(ioc, name) for name in _PUBLISHED}
        for ioc in iocs
    ]
    session.connection().execute(statement, rows)
