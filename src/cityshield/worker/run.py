"""The worker: every registered job, each in a thread of one process, until told to stop.

Each job runs at its interval, and *early* when its ``has_work`` query says there is work
(the publication job polls the ``network_pending`` queue every ``poll_seconds``). Polling
rather than PostgreSQL LISTEN/NOTIFY: it works the same on SQLite, which has no way to
notify another process; the probe is one primary-key lookup with ``LIMIT 1`` that neither
blocks nor is blocked by writers (WAL, MVCC), ten a second is noise; and a notification
would still need the poll as a fallback for one sent while no worker listened.

A job's errors are logged and recorded in its health, never fatal: the next run retries.
After a failed run the early trigger waits for the job's interval, so a job failing on its
work does not retry ten times a second. Jobs run in their own threads so that a slow one
(a feed pull, later) never delays publication.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field

from sqlalchemy import Engine

from cityshield.config import Settings
from cityshield.db import session_scope
from cityshield.dedup.hub_context import HubContext
from cityshield.hub.service import load_hub_context
from cityshield.jobs import Job, JobContext, Registry, registry
from cityshield.store.leases import Lease

log = logging.getLogger(__name__)

POLL_SECONDS = 0.1
LEASE_SECONDS = 60.0
"""Longer than any run's pass: a run renews its lease between passes, and a worker that
dies holding one blocks its job for at most this long."""


def worker_name() -> str:
    """Who holds a lease: host and pid for an operator, and a random part so a restarted
    process with a recycled pid is not mistaken for its predecessor."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class Worker:
    settings: Settings
    engine: Engine
    jobs: Registry = field(default_factory=lambda: registry)
    poll_seconds: float = POLL_SECONDS
    lease_seconds: float = LEASE_SECONDS
    holder: str = field(default_factory=worker_name)
    _network: HubContext | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def network(self) -> HubContext:
        with self._lock:
            if self._network is None:
                with session_scope(self.engine) as session:
                    self._network = load_hub_context(session, self.settings)
            return self._network

    def run(self, stop: threading.Event, *, parent_pid: int | None = None) -> None:
        """Run every job until ``stop`` is set (or, with ``parent_pid``, until that process
        is gone: a worker ``serve`` started must not outlive it, even if serve was killed)."""
        threads = [
            threading.Thread(target=self._loop, args=(job, stop), name=f"job {job.name}")
            for job in self.jobs
        ]
        for thread in threads:
            thread.start()
        while not stop.wait(0.5):
            if parent_pid is not None and os.getppid() != parent_pid:
                log.warning("the serve process %d is gone; the worker stops", parent_pid)
                stop.set()
        for thread in threads:
            thread.join()

    def _loop(self, job: Job, stop: threading.Event) -> None:
        next_due = time.monotonic()
        early = True
        while not stop.is_set():
            now = time.monotonic()
            if now >= next_due or (early and self._has_work(job)):
                ok = self.run_once(job, stop)
                next_due = time.monotonic() + job.every(self.settings)
                early = ok is not False
            stop.wait(min(self.poll_seconds, max(0.0, next_due - time.monotonic())))

    def _has_work(self, job: Job) -> bool:
        if job.has_work is None:
            return False
        try:
            with session_scope(self.engine) as session:
                return job.has_work(session)
        except Exception:
            log.exception("job %s: checking for work failed", job.name)
            return False

    def run_once(self, job: Job, stop: threading.Event | None = None) -> bool | None:
        """One run if this worker gets the lease: True if it succeeded, False if it
        failed, None if another worker holds the lease (or the database is unreachable)."""
        lease = Lease(
            self.engine,
            name=job.name,
            holder=self.holder,
            lease_us=int(self.lease_seconds * 1_000_000),
        )
        try:
            if not lease.take():
                return None
        except Exception:
            log.exception("job %s: taking its lease failed", job.name)
            return None

        context = JobContext(
            engine=self.engine,
            settings=self.settings,
            network=self.network,
            renew=lease.renew,
            stopping=(stop.is_set if stop is not None else lambda: False),
            holder=self.holder,
        )
        error = None
        try:
            job.run(context)
        except Exception as exc:  # a job's error is recorded, never fatal
            log.exception("job %s failed", job.name)
            error = f"{type(exc).__name__}: {exc}"
        self._finish(job, lease, error)
        return error is None

    def _finish(self, job: Job, lease: Lease, error: str | None) -> None:
        try:
            with session_scope(self.engine) as session:
                backlog = job.backlog(session) if job.backlog is not None else None
            recorded = lease.finish(error=error, backlog=backlog)
            if not recorded:
                log.warning("job %s: its lease was lost during the run", job.name)
        except Exception:
            log.exception("job %s: recording its health failed", job.name)
