"""The dashboard: what the network says now, as the signed-in member may see it.

One function builds all of it (the handler calls only this): the newest and the most
corroborated network indicators (``web.indicators``), reports and sightings per day (the
analyst statistics, ``soc.service.submission_stats``: the page charts the very series
``GET /api/v1/stats`` answers, counted once), the state of the member's own push target
and webhook (every member's, for admins) and, for admins, the background jobs' health.
Each part reads through the policy layer or the member's own rows; nothing here is a bare
query over stored objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from cityshield.dedup.hub_context import DAY_US
from cityshield.delivery import status as delivery_status
from cityshield.delivery import targets as delivery_targets
from cityshield.members.caller import Caller
from cityshield.policy import service as policy
from cityshield.soc import service as soc_service
from cityshield.soc.models import DayCount
from cityshield.store.collections import NETWORK_ALIAS, get_collection_by_alias
from cityshield.web.chart import BarChart, bar_chart
from cityshield.web.indicators import IndicatorRow, most_corroborated, newest_indicators
from cityshield.worker.service import list_job_health

CHART_DAYS = 30


@dataclass(frozen=True)
class DeliveryState:
    """A push target or webhook as its member (or an admin) sees it: no credentials."""

    member: str
    kind: str
    url: str
    view: str
    state: str
    attempts: int
    next_attempt: str | None
    last_success: str | None
    last_error: str | None
    last_error_at: str | None
    queue_depth: int
    queue_depth_capped: bool
    oldest_undelivered: str | None
    oldest_undelivered_age_seconds: float | None


@dataclass(frozen=True)
class Dashboard:
    """Everything the dashboard shows; None where the caller's role may not read it."""

    newest: list[IndicatorRow] | None
    most_corroborated: list[IndicatorRow] | None
    submissions: list[DayCount] | None
    deliveries: list[DeliveryState]
    jobs: list[dict[str, Any]] | None
    """Admins only: job errors may name the hub's internals."""

    @property
    def chart(self) -> BarChart | None:
        return None if self.submissions is None else bar_chart(self.submissions)


def build_dashboard(
    session: Session, *, caller: Caller, now_us: int, job_intervals: dict[str, float]
) -> Dashboard:
    """The dashboard of ``caller`` at ``now_us`` (``job_intervals``: the job registry's
    names and intervals, for the admins' job health)."""
    return Dashboard(
        newest=newest_indicators(session, caller=caller),
        most_corroborated=most_corroborated(session, caller=caller),
        submissions=submissions_per_day(session, caller=caller, now_us=now_us),
        deliveries=delivery_states(session, caller=caller, now_us=now_us),
        jobs=list_job_health(session, intervals=job_intervals, now_us=now_us)
        if caller.is_admin
        else None,
    )


def submissions_per_day(
    session: Session, *, caller: Caller, now_us: int, days: int = CHART_DAYS
) -> list[DayCount] | None:
    """Reports and sightings per UTC day for the ``days`` days up to and including today,
    oldest first, or None if the caller may not read the network (the statistics count
    what counts in the caller's network indicators)."""
    if not policy.can_read(caller, get_collection_by_alias(session, NETWORK_ALIAS)):
        return None
    since_us = (now_us // DAY_US - days + 1) * DAY_US
    stats = soc_service.submission_stats(
        session, caller=caller, since_us=since_us, until_us=now_us, now_us=now_us
    )
    return stats.by_day


def delivery_states(session: Session, *, caller: Caller, now_us: int) -> list[DeliveryState]:
    """The caller's own push target and webhook (every member's for an admin), with their
    lag: counted over exactly what delivery would send, i.e. what that member may read."""
    states = []
    for target, member in delivery_targets.list_targets(session):
        if not (caller.is_admin or member == caller.name):
            continue
        public = delivery_status.public_target(
            target, member, delivery_status.measure_lag(session, target, now_us=now_us)
        )
        lag = public.lag
        assert lag is not None  # measured just above
        states.append(
            DeliveryState(
                member=member,
                kind=public.kind,
                url=public.url,
                view=public.view,
                state=public.state,
                attempts=public.attempts,
                next_attempt=public.next_attempt,
                last_success=public.last_success,
                last_error=public.last_error,
                last_error_at=public.last_error_at,
                queue_depth=lag.queue_depth,
                queue_depth_capped=lag.queue_depth_capped,
                oldest_undelivered=lag.oldest_undelivered,
                oldest_undelivered_age_seconds=lag.oldest_undelivered_age_seconds,
            )
        )
    return states
