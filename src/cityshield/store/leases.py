"""Job leases, in the ``job`` table: the lock every background run takes.

A lease is taken with one conditional UPDATE that succeeds only if the lease has expired or
is already ours. Both backends make that atomic: SQLite runs one writer at a time, and
PostgreSQL re-checks the WHERE clause against the row a concurrent winner just committed
(READ COMMITTED re-evaluates an UPDATE's condition on the new row version), so of two
workers racing for a lease exactly one gets a row count of 1. No advisory locks, nothing
backend-specific, and a worker that dies simply lets its lease expire.

It lives in the floor, beside the collection locks, because more than the worker takes
leases: push delivery takes one per target so two workers never send the same item.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, or_, update
from sqlmodel import Session

from cityshield.bulk import conflict_insert
from cityshield.db import session_scope
from cityshield.timefmt import now_micros
from cityshield.worker.models import JobRow

MAX_ERROR_CHARS = 2000


def _ensure_row(session: Session, name: str) -> None:
    session.execute(
        conflict_insert(session, JobRow)
        .values(name=name, expires_us=0)
        .on_conflict_do_nothing(index_elements=["name"])
    )


def take_lease(session: Session, *, name: str, holder: str, now_us: int, lease_us: int) -> bool:
    """Take the job's lease for ``lease_us`` and record a run start; False if another
    worker holds it. Commit at once: the lease only protects once others can see it."""
    _ensure_row(session, name)
    result: Any = session.execute(
        update(JobRow)
        .where(
            JobRow.name == name,  # type: ignore[arg-type]
            or_(JobRow.expires_us <= now_us, JobRow.holder == holder),  # type: ignore[arg-type]
        )
        .values(holder=holder, expires_us=now_us + lease_us, started_us=now_us)
    )
    return bool(result.rowcount == 1)


def renew_lease(session: Session, *, name: str, holder: str, now_us: int, lease_us: int) -> bool:
    """Extend a lease we still hold (a long run renews between its passes); False if it
    was lost (it expired and another worker took it), and the run should stop."""
    result: Any = session.execute(
        update(JobRow)
        .where(
            JobRow.name == name,  # type: ignore[arg-type]
            JobRow.holder == holder,  # type: ignore[arg-type]
            JobRow.expires_us > now_us,  # type: ignore[arg-type]
        )
        .values(expires_us=now_us + lease_us)
    )
    return bool(result.rowcount == 1)


def finish_run(
    session: Session,
    *,
    name: str,
    holder: str,
    now_us: int,
    error: str | None,
    backlog: int | None,
) -> bool:
    """Record how the run went and release the lease (the holder stays, as who ran it
    last); False if the lease was lost meanwhile, and nothing is recorded."""
    outcome: dict[str, Any] = (
        {"succeeded_us": now_us}
        if error is None
        else {"failed_us": now_us, "last_error": error[:MAX_ERROR_CHARS]}
    )
    result: Any = session.execute(
        update(JobRow)
        .where(JobRow.name == name, JobRow.holder == holder)  # type: ignore[arg-type]
        .values(
            expires_us=0,
            duration_us=now_us - JobRow.started_us,  # type: ignore[operator]
            backlog=backlog,
            **outcome,
        )
    )
    return bool(result.rowcount == 1)


@dataclass(frozen=True)
class Lease:
    """One lease as its holder takes, renews and releases it around a run (the worker's
    jobs, one push target's delivery, one feed's pull), each step in a short transaction
    of its own: it must commit at once to protect anything, and none may stay open while
    the run it guards waits on the network."""

    engine: Engine
    name: str
    holder: str
    lease_us: int

    def take(self) -> bool:
        with session_scope(self.engine) as session:
            return take_lease(
                session,
                name=self.name,
                holder=self.holder,
                now_us=now_micros(),
                lease_us=self.lease_us,
            )

    def renew(self) -> bool:
        with session_scope(self.engine) as session:
            return renew_lease(
                session,
                name=self.name,
                holder=self.holder,
                now_us=now_micros(),
                lease_us=self.lease_us,
            )

    def finish(self, *, error: str | None, backlog: int | None = None) -> bool:
        with session_scope(self.engine) as session:
            return finish_run(
                session,
                name=self.name,
                holder=self.holder,
                now_us=now_micros(),
                error=error,
                backlog=backlog,
            )
