"""One registry of background jobs; ``cityshield worker`` runs what registers.

A job registers once, with a name, an interval (read from the settings, so operators tune
it without code) and a function, as dispatch's scheduler does
(``@scheduler.add(every(1).minutes, name=...)``)::

    @registry.add(every=lambda s: s.ageing_interval_seconds, name="network-ageing")
    def age(job: JobContext) -> None: ...

A job may also say when it has work (``has_work``: a cheap query the worker polls, so the
job starts at once instead of at its next interval) and how much is left (``backlog``,
reported with its health). Every job runs in the worker process, never in an API process
(docs/architecture.md, "Process model"); the worker keeps each one from running twice at
once across workers with a lease in the database (``cityshield.store.leases``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlmodel import Session

from cityshield.config import Settings
from cityshield.db import session_scope
from cityshield.dedup.hub_context import HubContext
from cityshield.dedup.service import (
    age_network,
    has_pending_publication,
    pending_publication_count,
    publish_pending,
    refresh_network_statistics,
)
from cityshield.delivery.job import delivery_backlog, has_due_target, run_delivery
from cityshield.feeds.job import due_feed_count, has_due_feed, run_feed_pulls

PUBLICATION_PASSES = 100
"""Passes of ``publish_pending`` (each bounded) per run: a run ends even under a flood of
ingest, so its health is recorded and a stop request is heard; the next run follows at
once, since there is still work."""


@dataclass
class JobContext:
    """What a running job gets from the worker."""

    engine: Engine
    settings: Settings
    network: Callable[[], HubContext]
    """The hub identity, key and ageing rules (loaded once per worker, on first use)."""
    renew: Callable[[], bool] = field(default=lambda: True)
    """Extend this run's lease; False if it was lost, and the job should return."""
    stopping: Callable[[], bool] = field(default=lambda: False)
    """Whether the worker was asked to stop: a long job returns between two passes."""
    holder: str = "worker"
    """Who runs it (the worker's lease holder name), for leases a job takes itself."""


@dataclass(frozen=True)
class Job:
    name: str
    every: Callable[[Settings], float]
    run: Callable[[JobContext], None]
    has_work: Callable[[Session], bool] | None = None
    backlog: Callable[[Session], int] | None = None


class Registry:
    """Jobs by name; registering a name twice is a mistake, not an override."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}

    def add(
        self,
        *,
        every: Callable[[Settings], float],
        name: str,
        has_work: Callable[[Session], bool] | None = None,
        backlog: Callable[[Session], int] | None = None,
    ) -> Callable[[Callable[[JobContext], None]], Callable[[JobContext], None]]:
        def register(run: Callable[[JobContext], None]) -> Callable[[JobContext], None]:
            if name in self._jobs:
                raise ValueError(f"job {name!r} is registered twice")
            self._jobs[name] = Job(name, every, run, has_work, backlog)
            return run

        return register

    def __iter__(self) -> Iterator[Job]:
        return iter(self._jobs.values())

    def intervals(self, settings: Settings) -> dict[str, float]:
        return {job.name: job.every(settings) for job in self}


registry = Registry()


@registry.add(
    every=lambda s: s.publish_interval_seconds,
    name="network-publication",
    has_work=has_pending_publication,
    backlog=pending_publication_count,
)
def publish_network(job: JobContext) -> None:
    """Publish queued network indicators and members' views until none is left; after a
    pass that published something, bring the planner statistics of the tables it grew up
    to date (PostgreSQL; throttled by the growth it takes)."""
    for _ in range(PUBLICATION_PASSES):
        with session_scope(job.engine) as session:
            done = publish_pending(session, context=job.network())
        if done:
            with session_scope(job.engine) as session:
                refresh_network_statistics(session)
        if not done or job.stopping() or not job.renew():
            return


@registry.add(every=lambda s: s.ageing_interval_seconds, name="network-ageing")
def age_network_job(job: JobContext) -> None:
    """Republish as revoked the network indicators whose every report went stale."""
    with session_scope(job.engine) as session:
        age_network(session, context=job.network())


@registry.add(
    every=lambda s: s.delivery_interval_seconds,
    name="delivery",
    has_work=has_due_target,
    backlog=delivery_backlog,
)
def deliver(job: JobContext) -> None:
    """Push what each member may see to its own TAXII server (docs/delivery.md)."""
    run_delivery(
        engine=job.engine,
        settings=job.settings,
        holder=job.holder,
        renew=job.renew,
        stopping=job.stopping,
    )


@registry.add(
    every=lambda s: s.feed_poll_seconds,
    name="feed-pulls",
    has_work=has_due_feed,
    backlog=due_feed_count,
)
def pull_feeds(job: JobContext) -> None:
    """Pull every due feed, each at its own interval and under its own lease
    (docs/feeds.md)."""
    run_feed_pulls(
        engine=job.engine,
        settings=job.settings,
        network=job.network,
        holder=job.holder,
        renew=job.renew,
        stopping=job.stopping,
    )
