"""Counts for an analyst's dashboard: reports and sightings per member, per observable
type and per day (the submissions-over-time series the page charts).

Counted over the contributions that count for the caller (``policy.visible_contributions``):
a report the caller may not see adds to no count, and a report the hub signed on a member's
behalf counts under no member's name (``soc.indicators.attributed``). A report is counted
once, on the day it was first received (a sighting on the day it was seen), however many
versions it has.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from sqlalchemy import case, func
from sqlmodel import Session, col

from cityshield.dedup.hub_context import DAY_US
from cityshield.dedup.models import Contribution, NetworkIOC
from cityshield.errors import InvalidFilter
from cityshield.members.caller import Caller
from cityshield.policy import service as policy
from cityshield.soc.indicators import attributed, member_names, network
from cityshield.soc.models import DayCount, MemberCount, StatsPublic, TypeCount
from cityshield.timefmt import format_timestamp, now_micros

DEFAULT_DAYS = 30
MAX_DAYS = 366


def submission_stats(
    session: Session,
    *,
    caller: Caller,
    since_us: int | None = None,
    until_us: int | None = None,
    now_us: int | None = None,
) -> StatsPublic:
    """Counts over reports first seen in [since, until] (default: the last 30 days)."""
    until = until_us if until_us is not None else (now_us or now_micros())
    since = since_us if since_us is not None else until - DEFAULT_DAYS * DAY_US
    if since > until:
        raise InvalidFilter("since must not be later than until.")
    if until - since > MAX_DAYS * DAY_US:
        raise InvalidFilter(f"A period of at most {MAX_DAYS} days.")
    member = case((attributed(caller), col(Contribution.member_id)), else_=None)
    day = col(Contribution.first_seen_us) // DAY_US
    kind = col(Contribution.kind)
    query = (
        policy.visible_contributions(
            caller,
            network(session),
            member,
            col(NetworkIOC.observable_type),
            day,
            kind,
            func.count(),
        )
        .join(NetworkIOC, col(NetworkIOC.id) == col(Contribution.ioc_id))
        .where(col(Contribution.first_seen_us).between(since, until))
        .group_by(member, col(NetworkIOC.observable_type), day, kind)
    )
    by_member: Counter[tuple[Any, str]] = Counter()
    by_type: Counter[tuple[str, str]] = Counter()
    by_day: Counter[tuple[int, str]] = Counter()
    for member_id, observable_type, day_number, report_kind, count in session.execute(query):
        by_member[(member_id, report_kind)] += count
        by_type[(observable_type, report_kind)] += count
        by_day[(int(day_number), report_kind)] += count
    names = member_names(session, (m for m, _ in by_member))
    members = sorted(
        {names.get(m) if m is not None else None for m, _ in by_member},
        key=lambda n: (n is None, n or ""),
    )
    ids_by_name = {name: member_id for member_id, name in names.items()}
    return StatsPublic(
        since=format_timestamp(since),
        until=format_timestamp(until),
        total=sum(by_type.values()),
        by_member=[
            MemberCount(
                member=name,
                reports=by_member[(ids_by_name.get(name) if name else None, "indicator")],
                sightings=by_member[(ids_by_name.get(name) if name else None, "sighting")],
            )
            for name in members
        ],
        by_type=[
            TypeCount(
                observable_type=t,
                reports=by_type[(t, "indicator")],
                sightings=by_type[(t, "sighting")],
            )
            for t in sorted({t for t, _ in by_type})
        ],
        by_day=[
            DayCount(
                day=time.strftime("%Y-%m-%d", time.gmtime(d * 86_400)),
                reports=by_day[(d, "indicator")],
                sightings=by_day[(d, "sighting")],
            )
            for d in range(since // DAY_US, until // DAY_US + 1)
        ],
    )
