"""The publication queue: IOCs whose contributions changed since their network indicator
was last published (``network_pending``). Writers queue, the publisher dequeues.

A report must never be lost between the two, and the two must never deadlock:

* Writers *re-mark* an IOC that is already queued with a no-op upsert instead of skipping
  it. The update locks the queue row, so a publisher dequeuing that IOC concurrently waits
  for the writer to commit and then counts its report. Skipping it could let the publisher
  dequeue the IOC without seeing the report, which would then never be published.
* The publisher dequeues *before* it reads contributions, so the read that follows a wait
  sees what the writer committed.
* Everyone locks queue rows in key order, and before IOC rows: a writer queues before it
  inserts contributions (whose foreign keys share-lock the IOC rows the publisher updates).

This matters on PostgreSQL; SQLite runs one writer at a time.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from sqlalchemy import delete, false, func, or_, select, true
from sqlmodel import Session, col

from cityshield.bulk import conflict_insert
from cityshield.dedup.models import NetworkIOC, PendingIOC, ViewPending


def _upsert(session: Session) -> tuple[Any, dict[str, Any]]:
    """INSERT into the queue, and the update that re-marks (and so locks) rows already
    there; a row stays urgent once an urgent report queued it."""
    statement = conflict_insert(session, PendingIOC)
    urgent = or_(PendingIOC.urgent, statement.excluded.urgent)  # type: ignore[arg-type]
    return statement, {"ioc_id": statement.excluded.ioc_id, "urgent": urgent}


def mark_pending(session: Session, ioc_ids: Iterable[int], *, urgent: Collection[int] = ()) -> None:
    """Queue these IOCs for publication (idempotent); ``urgent`` ones go first."""
    rows = [{"ioc_id": ioc_id, "urgent": ioc_id in urgent} for ioc_id in sorted(set(ioc_ids))]
    if rows:
        statement, remark = _upsert(session)
        session.execute(
            statement.on_conflict_do_update(index_elements=["ioc_id"], set_=remark), rows
        )


def mark_all_pending(session: Session) -> None:
    """Queue every IOC (after a policy change, what counts in each aggregate may differ)."""
    statement, remark = _upsert(session)
    every = (
        select(col(NetworkIOC.id), false()).where(true()).order_by(col(NetworkIOC.id))
    )  # WHERE: SQLite syntax
    session.execute(
        statement.from_select(["ioc_id", "urgent"], every).on_conflict_do_update(
            index_elements=["ioc_id"], set_=remark
        )
    )


def due(session: Session, limit: int) -> list[int]:
    """Up to ``limit`` queued IOCs, in key order: the urgent ones alone while there are
    any, so that their pass is small and commits at once, whatever else is queued."""
    query = select(col(PendingIOC.ioc_id)).order_by(col(PendingIOC.ioc_id)).limit(limit)
    urgent = list(session.execute(query.where(col(PendingIOC.urgent))).scalars())
    return urgent or list(session.execute(query).scalars())


def dequeue(session: Session, ioc_ids: list[int]) -> None:
    """Take these IOCs off the queue, waiting for any writer still queueing one of them."""
    queued = col(PendingIOC.ioc_id).in_(ioc_ids)
    session.execute(
        select(col(PendingIOC.ioc_id)).where(queued).order_by("ioc_id").with_for_update()
    )
    session.execute(delete(PendingIOC).where(queued))


def has_work(session: Session) -> bool:
    """Whether the publisher has anything to do: an IOC queued, or a member whose views
    are still being built. Two primary-key probes (``LIMIT 1``), cheap enough for the
    worker to ask ten times a second."""
    for table in (PendingIOC, ViewPending):
        if session.execute(select(1).select_from(table).limit(1)).first() is not None:
            return True
    return False


def queued_count(session: Session) -> int:
    """How many IOCs wait for publication (the publication job's backlog)."""
    return int(session.execute(select(func.count()).select_from(PendingIOC)).scalar_one())
