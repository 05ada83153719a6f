"""Job health, from the ``job`` table whose leases ``cityshield.store.leases`` takes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from cityshield.timefmt import format_timestamp
from cityshield.worker.models import JobRow


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
