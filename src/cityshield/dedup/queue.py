"""The publication queue: IOCs whose contributions changed since their network indicator
was last published (``network_pending``). Writers queue, the publisher dequeues.

A report must never be lost between the two, and the two must never deadlock:

* Every queueing bumps the row's ``seq`` (a new row starts at 0; an IOC already queued is
  *re-marked* with an upsert that adds one, which also locks the row). The publisher
  reads each row's ``seq`` no later than the contributions it publishes, and at the end
  takes off the queue only the rows whose ``seq`` is still the one it read
  (:func:`dequeue_unchanged`). A report committed after that read changed the ``seq``:
  its IOC stays queued and the next pass publishes it. So the publisher may read and
  build from a snapshot, outside any lock (``dedup.publisher``), and a writer never waits
  for a build.
* :func:`dequeue_unchanged` locks the rows it checks (``FOR UPDATE``), so on PostgreSQL a
  writer still re-marking one of them is waited for and its new ``seq`` seen.
* Everyone locks queue rows in key order, and before IOC rows: a writer queues before it
  inserts contributions (whose foreign keys share-lock the IOC rows the publisher updates).

A row deleted and queued again starts at 0, which a publisher might have read before: only
another publisher deletes rows, and a publisher writes only if no other one committed since
its snapshot (``store.locks.locks_taken``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Any

from sqlalchemy import delete, false, func, or_, select, true
from sqlmodel import Session, col

from cityshield.bulk import chunks, conflict_insert
from cityshield.dedup.models import NetworkIOC, PendingIOC, ViewPending


def _upsert(session: Session) -> tuple[Any, dict[str, Any]]:
    """INSERT into the queue, and the update that re-marks (and so locks) rows already
    there, counting the change; a row stays urgent once an urgent report queued it."""
    statement = conflict_insert(session, PendingIOC)
    urgent = or_(PendingIOC.urgent, statement.excluded.urgent)  # type: ignore[arg-type]
    return statement, {"urgent": urgent, "seq": col(PendingIOC.seq) + 1}


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


def due(session: Session, limit: int) -> dict[int, int]:
    """Up to ``limit`` queued IOCs (id -> ``seq``), in key order: the urgent ones alone
    while there are any, so that their pass is small and commits at once, whatever else
    is queued."""
    query = (
        select(col(PendingIOC.ioc_id), col(PendingIOC.seq))
        .order_by(col(PendingIOC.ioc_id))
        .limit(limit)
    )
    urgent = session.execute(query.where(col(PendingIOC.urgent))).all()
    return dict(urgent or session.execute(query).all())


def queued(session: Session, ioc_ids: Sequence[int]) -> dict[int, int]:
    """Which of these IOCs are queued (id -> ``seq``): publishing them any other way
    (ageing, a key refresh) takes them off the queue too."""
    found: dict[int, int] = {}
    for chunk in chunks(sorted(ioc_ids)):
        query = select(col(PendingIOC.ioc_id), col(PendingIOC.seq)).where(
            col(PendingIOC.ioc_id).in_(chunk)
        )
        found.update({ioc_id: seq for ioc_id, seq in session.execute(query)})
    return found


def dequeue_unchanged(session: Session, seen: dict[int, int]) -> None:
    """Take off the queue the IOCs whose ``seq`` is still the one in ``seen``; the others
    were queued again since (a report the publication did not count) and stay.

    The rows are locked in key order first, waiting for any writer still queueing one of
    them (PostgreSQL), so its new ``seq`` is what is compared."""
    done: list[int] = []
    for chunk in chunks(sorted(seen)):
        query = (
            select(col(PendingIOC.ioc_id), col(PendingIOC.seq))
            .where(col(PendingIOC.ioc_id).in_(chunk))
            .order_by(col(PendingIOC.ioc_id))
            .with_for_update()
        )
        done.extend(ioc_id for ioc_id, seq in session.execute(query) if seen[ioc_id] == seq)
    for chunk in chunks(done):
        session.execute(delete(PendingIOC).where(col(PendingIOC.ioc_id).in_(chunk)))


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
