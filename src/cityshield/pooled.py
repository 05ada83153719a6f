"""Running due items side by side in a bounded thread pool, for as long as any is due.

The worker's ``delivery`` job (one item a push target) and ``feed-pulls`` job (one item a
feed) both run this one loop, so that how a run ends, how often the job's lease is
renewed and how a failed item is reported cannot drift apart between them. The loop asks
for due items whenever a thread may be free, starts each in a thread of a pool of
``concurrency`` (an item takes its own lease in its thread: a hung item holds one thread,
never the others), and returns once nothing is due and nothing is in flight.

The job's lease is renewed every :data:`RENEW_SECONDS` while the run lasts. Once it is
lost, or the worker stops, :meth:`PooledRun.halted` turns true: no item is started any
more, and the items in flight, which the jobs give ``halted`` as (part of) their stop
signal, end after their current batch; the run returns when they have.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Hashable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Generic, TypeVar

from cityshield.timefmt import now_micros

K = TypeVar("K", bound=Hashable)

POLL_SECONDS = 0.1
"""How long the loop waits for an item to finish before it looks for due items again."""
RENEW_SECONDS = 10.0
"""How often the job's lease is renewed (it lasts far longer: ``worker.run``)."""


class PooledRun(Generic[K]):
    """One run of a pooled job: ``renew`` renews the job's lease (False once lost) and
    ``stopping`` says the worker stops."""

    def __init__(self, *, renew: Callable[[], bool], stopping: Callable[[], bool]) -> None:
        self._renew = renew
        self._stopping = stopping
        self._lost = False

    def halted(self) -> bool:
        """The run is to end: the worker stops or the job's lease was lost (then another
        worker may already run the job, and this one must start nothing more)."""
        return self._lost or self._stopping()

    def run(
        self,
        *,
        concurrency: int,
        thread_name: str,
        due: Callable[[Collection[K], int], Iterable[K]],
        start: Callable[[K], object],
        describe: Callable[[K], str],
        log: logging.Logger,
    ) -> None:
        """Start ``start(key)`` in the pool for every key ``due(running, free)`` names
        (``running``: the keys in flight, never to be named again; ``free``: how many
        threads are free, possibly none) until none is due and none is in flight, or the
        run is halted and those in flight have finished. An item's exception is logged as
        ``describe(key): error`` on ``log`` and ends only that item."""
        running: dict[K, Future[object]] = {}
        renewed_us = now_micros()
        with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix=thread_name) as pool:
            while not self.halted():
                for key, future in list(running.items()):
                    if future.done():
                        del running[key]
                        if future.exception() is not None:
                            log.error("%s: %s", describe(key), future.exception())
                for key in due(set(running), concurrency - len(running)):
                    running[key] = pool.submit(start, key)
                if not running:
                    return
                if now_micros() - renewed_us > RENEW_SECONDS * 1_000_000:
                    self._lost = not self._renew()
                    renewed_us = now_micros()
                wait(list(running.values()), timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
