"""The network loop ``serve`` runs: publish what changed, expire what went stale."""

from __future__ import annotations

import asyncio
import logging
import time

from sqlalchemy import Engine

from cityshield.db import session_scope
from cityshield.dedup.context import NetworkContext
from cityshield.dedup.service import age_network, publish_pending

log = logging.getLogger(__name__)


def publish_once(engine: Engine, context: NetworkContext) -> int:
    with session_scope(engine) as session:
        return publish_pending(session, context=context)


def age_once(engine: Engine, context: NetworkContext) -> int:
    with session_scope(engine) as session:
        return age_network(session, context=context)


async def run_network_loop(
    engine: Engine, context: NetworkContext, *, publish_every: float, age_every: float
) -> None:
    """Publish pending network indicators every ``publish_every`` seconds and expire stale
    ones every ``age_every``; errors are logged, never fatal (the next pass retries)."""
    next_ageing = time.monotonic() + age_every
    while True:
        await asyncio.sleep(publish_every)
        try:
            await asyncio.to_thread(publish_once, engine, context)
            if time.monotonic() >= next_ageing:
                next_ageing = time.monotonic() + age_every
                expired = await asyncio.to_thread(age_once, engine, context)
                if expired:
                    log.info("aged out %d network indicators", expired)
        except Exception:  # the loop must outlive a transient database error
            log.exception("network loop pass failed")
