"""The worker's ``feed-pulls`` job: every due feed in its own thread, a bounded number at
once, each under its own lease (``feeds/run.py``).

A run first reads the definitions directory and brings the feeds' rows in step (a new
file is due at once), then starts each due feed's pull in a thread of a small pool
(``CITYSHIELD_FEED_CONCURRENCY``), starts the next as soon as a thread is free, and
returns once nothing is due and nothing is in flight. Every feed has its own interval and
timeout: a feed that hangs until its timeout holds one thread, never the others, and
never the publication or delivery jobs (threads of their own). The worker's early trigger
polls :func:`has_due_feed`, so a feed comes due within a moment of its interval.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection

from sqlalchemy import Engine
from sqlmodel import Session

from cityshield.config import Settings
from cityshield.db import session_scope
from cityshield.dedup.hub_context import HubContext
from cityshield.feeds.load import Definitions, load_definitions
from cityshield.feeds.pull import PullContext
from cityshield.feeds.run import pull_with_lease
from cityshield.feeds.state import due_feeds, sync_definitions
from cityshield.pooled import PooledRun
from cityshield.timefmt import now_micros

log = logging.getLogger(__name__)


def has_due_feed(session: Session) -> bool:
    return bool(due_feeds(session, now_us=now_micros(), exclude=set(), limit=1))


def due_feed_count(session: Session) -> int:
    return len(due_feeds(session, now_us=now_micros(), exclude=set(), limit=10_000))


def read_definitions(session: Session, settings: Settings) -> Definitions:
    """The definitions directory, with every feed's row brought in step."""
    definitions = load_definitions(settings.feeds_dir)
    for problem in definitions.problems:
        log.warning("feed definition: %s", problem)
    sync_definitions(session, home=settings.home, definitions=definitions, now_us=now_micros())
    return definitions


def pull_context(
    engine: Engine,
    settings: Settings,
    network: HubContext,
    stopping: Callable[[], bool] = lambda: False,
) -> PullContext:
    return PullContext(
        engine=engine,
        home=settings.home,
        network=network,
        max_bytes=settings.feed_max_bytes,
        batch_size=settings.feed_batch_size,
        stopping=stopping,
    )


def run_feed_pulls(
    *,
    engine: Engine,
    settings: Settings,
    network: Callable[[], HubContext],
    holder: str,
    renew: Callable[[], bool],
    stopping: Callable[[], bool],
) -> None:
    """Pull every due feed until none is due (or the worker stops, or the job's lease is
    lost); returns after the pulls in flight have finished or stopped."""
    with session_scope(engine) as session:
        definitions = read_definitions(session, settings)
        if not has_due_feed(session):
            return
    pooled: PooledRun[str] = PooledRun(renew=renew, stopping=stopping)
    context = pull_context(engine, settings, network(), stopping=pooled.halted)

    def due(running: Collection[str], free: int) -> list[str]:
        if free <= 0:
            return []
        with session_scope(engine) as session:
            names = due_feeds(session, now_us=now_micros(), exclude=set(running), limit=free)
        return [name for name in names if name in definitions.feeds]

    def start(name: str) -> None:
        pull_with_lease(context, definitions.feeds[name], holder=holder)

    pooled.run(
        concurrency=settings.feed_concurrency,
        thread_name="feed",
        due=due,
        start=start,
        describe=lambda name: f"feed {name}",
        log=log,
    )
