"""The pooled loop the delivery and feed-pulls jobs share: every due item once, never more
at a time than the pool holds, a failed item logged and the rest unharmed, and nothing
started once the job's lease is lost (the items in flight see it and stop)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Collection

import pytest

from cityshield import pooled
from cityshield.pooled import PooledRun

log = logging.getLogger("tests.pooled")


def test_every_due_item_runs_once_and_never_more_than_the_pool_at_a_time() -> None:
    waiting = list(range(20))
    started: list[int] = []
    in_flight, most = 0, 0
    lock = threading.Lock()

    def due(running: Collection[int], free: int) -> list[int]:
        assert len(running) + free == 3
        taken, waiting[:free] = waiting[:free], []
        return taken

    def start(key: int) -> None:
        nonlocal in_flight, most
        with lock:
            in_flight += 1
            most = max(most, in_flight)
            started.append(key)
        with lock:
            in_flight -= 1

    run: PooledRun[int] = PooledRun(renew=lambda: True, stopping=lambda: False)
    run.run(concurrency=3, thread_name="t", due=due, start=start, describe=str, log=log)
    assert sorted(started) == list(range(20))
    assert most <= 3


def test_a_failed_item_is_logged_by_its_description_and_the_others_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    waiting, done = ["a", "bad", "c"], []

    def due(running: Collection[str], free: int) -> list[str]:
        taken, waiting[:free] = waiting[:free], []
        return taken

    def start(key: str) -> None:
        if key == "bad":
            raise RuntimeError("no route to host")
        done.append(key)

    run: PooledRun[str] = PooledRun(renew=lambda: True, stopping=lambda: False)
    with caplog.at_level(logging.ERROR, logger="tests.pooled"):
        run.run(
            concurrency=2,
            thread_name="t",
            due=due,
            start=start,
            describe=lambda key: f"feed {key}",
            log=log,
        )
    assert sorted(done) == ["a", "c"]
    assert [r.getMessage() for r in caplog.records] == ["feed bad: no route to host"]


def test_a_lost_lease_starts_nothing_more_and_halts_the_items_in_flight(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pooled, "RENEW_SECONDS", -1.0)  # renew at every turn
    started: list[int] = []
    saw_halt = threading.Event()
    renewals = 0

    def renew() -> bool:
        nonlocal renewals
        renewals += 1
        return False

    run: PooledRun[int] = PooledRun(renew=renew, stopping=lambda: False)

    def due(running: Collection[int], free: int) -> list[int]:
        return [len(started)] if free and len(started) < 3 else []

    def start(key: int) -> None:
        started.append(key)
        for _ in range(50):  # bounded: the loop renews as soon as this one started
            if run.halted():
                saw_halt.set()
                return
            threading.Event().wait(0.1)

    run.run(concurrency=1, thread_name="t", due=due, start=start, describe=str, log=log)
    assert saw_halt.is_set(), "the item in flight was told"
    assert renewals == 1 and started == [0], "nothing started after the lease was lost"
