"""The ageing loop ``serve`` runs: stale network IOCs are revoked without anyone asking."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import Engine

from cityshield.db import session_scope
from cityshield.dedup.context import NetworkContext
from cityshield.dedup.service import age_network

log = logging.getLogger(__name__)


def age_once(engine: Engine, context: NetworkContext) -> int:
    with session_scope(engine) as session:
        return age_network(session, context=context)


async def run_ageing(engine: Engine, context: NetworkContext, interval_seconds: float) -> None:
    """Every ``interval_seconds``, expire what went stale; errors are logged, never fatal."""
    while True:
        await asyncio.sleep(interval_seconds)
        try:
            expired = await asyncio.to_thread(age_once, engine, context)
            if expired:
                log.info("aged out %d network indicators", expired)
        except Exception:  # the loop must outlive a transient database error
            log.exception("ageing pass failed")
