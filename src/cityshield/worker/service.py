"""Job leases and health, in the ``job`` table.

A lease is taken with one conditional UPDATE that succeeds only if the lease has expired or
is already ours. Both backends make that atomic: SQLite runs one writer at a time, and
PostgreSQL re-checks the WHERE clause against the row a concurrent winner just committed
(READ COMMITTED re-evaluates an UPDATE's condition on the new row version), so of two
workers racing for a lease exactly one gets a row count of 1. No advisory locks, nothing
backend-specific, and a worker that dies simply lets its lease expire.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select, update
from sqlmodel import Session

from cityshield.bulk import conflict_insert
from cityshield.timefmt import format_timestamp
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


def _time(micros: int | None) -> str | None:
    return None if micros is None else format_timestamp(micros)


def list_job_health(
    session: Session, *, intervals: dict[str, float], now_us: int
) -> list[dict[str, Any]]:
    """The health of every registered job (``intervals``: name -> seconds), in name order;
    a job no worker has run yet is listed with no runs, which is itself worth seeing."""
    rows = {
        row.name: row
        for row in session.execute(
            select(JobRow).where(JobRow.name.in_(list(intervals)))  # type: ignore[attr-defined]
        ).scalars()
    }
    health = []
    for name in sorted(intervals):
        row = rows.get(name) or JobRow(name=name)
        running = row.expires_us > now_us
        health.append(
            {
                "name": name,
                "interval_seconds": intervals[name],
                "running": running,
                "holder": row.holder,
                "lease_expires": _time(row.expires_us) if running else None,
                "last_started": _time(row.started_us),
                "last_duration_seconds": None
                if row.duration_us is None
                else row.duration_us / 1_000_000,
                "last_success": _time(row.succeeded_us),
                "last_failure": _time(row.failed_us),
                "last_error": row.last_error,
                "ok": None
                if row.started_us is None
                else row.failed_us is None
                or (row.succeeded_us is not None and row.succeeded_us > row.failed_us),
                "backlog": row.backlog,
            }
        )
    return health
