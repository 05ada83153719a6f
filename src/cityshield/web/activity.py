"""Submissions over time: how many reports the caller may see arrived on each day.

Counted over the ``submissions`` collection through the policy's base query
(``policy.visible_objects``), by each stored version's ``date_added``: a report the caller
may not see is in no count, and the days are UTC days, so the series is the same for every
reader in every time zone.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col

from cityshield.members.caller import Caller
from cityshield.policy import service as policy
from cityshield.store.collections import SUBMISSIONS_ALIAS, get_collection_by_alias
from cityshield.store.models import StixObject

DAY_US = 86_400_000_000
CHART_DAYS = 30


@dataclass(frozen=True)
class DayCount:
    day: str
    """YYYY-MM-DD (UTC)."""
    count: int


def submissions_per_day(
    session: Session, *, caller: Caller, now_us: int, days: int = CHART_DAYS
) -> list[DayCount] | None:
    """One count per UTC day for the ``days`` days up to and including today, oldest first
    (days without submissions count 0), or None if the caller may not read submissions."""
    submissions = get_collection_by_alias(session, SUBMISSIONS_ALIAS)
    if not policy.can_read(caller, submissions):
        return None
    first_day = now_us // DAY_US - days + 1
    added = col(StixObject.date_added_us)
    day = added // DAY_US
    query = (
        policy.visible_objects(caller, submissions, day, func.count())
        .where(added >= first_day * DAY_US)
        .group_by(day)
    )
    counts = {int(d): int(n) for d, n in session.execute(query)}
    return [DayCount(_day_text(first_day + i), counts.get(first_day + i, 0)) for i in range(days)]


def _day_text(day: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(day * DAY_US // 1_000_000))
