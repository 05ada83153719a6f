"""``cityshield worker`` (run every background job) and ``cityshield jobs`` (their health)."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Annotated

import typer

from cityshield.cli.context import hub_session, print_json
from cityshield.config import get_settings
from cityshield.db import make_engine
from cityshield.jobs import registry
from cityshield.migrate import upgrade
from cityshield.timefmt import now_micros
from cityshield.worker.run import Worker
from cityshield.worker.service import list_job_health


def worker(
    parent_pid: Annotated[
        int | None,
        typer.Option(hidden=True, help="Stop when this process is gone (set by serve)."),
    ] = None,
) -> None:
    """Run every background job (network publication, ageing) until SIGTERM or SIGINT;
    `serve` starts one beside the API unless told --no-worker."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = get_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    engine = make_engine(settings.effective_database_url)
    try:
        upgrade(engine)
        logging.getLogger(__name__).info(
            "worker running %s", ", ".join(job.name for job in registry)
        )
        Worker(settings, engine).run(stop, parent_pid=parent_pid)
    finally:
        engine.dispose()


def jobs() -> None:
    """Each background job's lease and health: last run, duration, success, error, backlog."""
    settings = get_settings()
    with hub_session(settings) as session:
        health = list_job_health(
            session, intervals=registry.intervals(settings), now_us=now_micros()
        )
    print_json(health)
