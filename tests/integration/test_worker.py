"""Background jobs: leases that keep a job from running twice at once across workers,
the health each run records, and who may read it."""

from __future__ import annotations

import threading
import time
import uuid

from cityshield.db import session_scope
from cityshield.jobs import JobContext, Registry
from cityshield.store.leases import renew_lease, take_lease
from cityshield.timefmt import now_micros
from cityshield.worker.run import Worker
from cityshield.worker.service import list_job_health
from tests.utils.server import Hub

SECOND = 1_000_000


def _take(hub: Hub, name: str, holder: str, now_us: int, lease_us: int = 10 * SECOND) -> bool:
    with session_scope(hub.engine) as session:
        return take_lease(session, name=name, holder=holder, now_us=now_us, lease_us=lease_us)


def test_a_lease_is_refused_to_a_second_worker_until_it_expires(hub: Hub) -> None:
    name, now = f"lease-{uuid.uuid4().hex}", now_micros()
    assert _take(hub, name, "worker-a", now)
    assert not _take(hub, name, "worker-b", now + SECOND), "two holders at once"
    assert _take(hub, name, "worker-a", now + 2 * SECOND), "the holder may take it again"
    assert not _take(hub, name, "worker-b", now + 11 * SECOND), "renewed until now + 12 s"
    assert _take(hub, name, "worker-b", now + 12 * SECOND), "an expired lease is free"
    with session_scope(hub.engine) as session:
        assert not renew_lease(
            session, name=name, holder="worker-a", now_us=now + 13 * SECOND, lease_us=SECOND
        ), "a lost lease cannot be renewed"


def _race(hub: Hub, name: str, now: int, workers: int) -> list[str]:
    """``workers`` threads take one lease at the same instant; returns who got it."""
    barrier = threading.Barrier(workers)
    won: list[str] = []

    def race(holder: str) -> None:
        barrier.wait()
        if _take(hub, name, holder, now):
            won.append(holder)

    threads = [threading.Thread(target=race, args=(f"w{i}",)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return won


def test_of_workers_racing_for_a_lease_exactly_one_wins(hub: Hub) -> None:
    for _ in range(5):
        won = _race(hub, f"race-{uuid.uuid4().hex}", now_micros(), workers=4)
        assert len(won) == 1, won


def test_two_running_workers_never_run_one_job_at_once(hub: Hub) -> None:
    jobs = Registry()
    active, overlaps, runs = [0], [0], [0]
    lock = threading.Lock()

    @jobs.add(every=lambda _s: 0.01, name=f"exclusive-{uuid.uuid4().hex}")
    def exclusive(_job: JobContext) -> None:
        with lock:
            active[0] += 1
            runs[0] += 1
            overlaps[0] += active[0] > 1
        time.sleep(0.05)
        with lock:
            active[0] -= 1

    with hub.worker(jobs=jobs, poll_seconds=0.01), hub.worker(jobs=jobs, poll_seconds=0.01):
        time.sleep(2)
    assert runs[0] >= 5, "the job hardly ran"
    assert overlaps[0] == 0, "two workers ran the job at the same time"


def test_a_failing_job_records_its_error_and_a_later_success(hub: Hub) -> None:
    jobs = Registry()
    name = f"flaky-{uuid.uuid4().hex}"
    fail = [True]

    @jobs.add(every=lambda _s: 3600, name=name, backlog=lambda _session: 7)
    def flaky(_job: JobContext) -> None:
        if fail[0]:
            raise RuntimeError("the feed answered 503")

    (job,) = jobs
    worker = Worker(hub.settings, hub.engine, jobs=jobs)

    def health() -> dict[str, object]:
        with session_scope(hub.engine) as session:
            (row,) = list_job_health(session, intervals={name: 3600}, now_us=now_micros())
        return row

    never = health()
    assert never["last_started"] is None and never["ok"] is None, "listed before any run"
    assert worker.run_once(job) is False, "the error must not escape"
    failed = health()
    assert failed["last_error"] == "RuntimeError: the feed answered 503"
    assert failed["ok"] is False and failed["last_success"] is None
    assert failed["backlog"] == 7 and failed["running"] is False
    assert failed["holder"] == worker.holder
    assert failed["last_duration_seconds"] is not None
    fail[0] = False
    assert worker.run_once(job) is True
    recovered = health()
    assert recovered["ok"] is True and recovered["last_success"] is not None
    assert recovered["last_error"] == "RuntimeError: the feed answered 503", "kept for admins"


def test_a_job_held_elsewhere_is_not_run(hub: Hub) -> None:
    jobs = Registry()
    name, ran = f"held-{uuid.uuid4().hex}", []

    @jobs.add(every=lambda _s: 3600, name=name)
    def held(_job: JobContext) -> None:
        ran.append(1)

    assert _take(hub, name, "another-worker", now_micros(), lease_us=60 * SECOND)
    (job,) = jobs
    assert Worker(hub.settings, hub.engine, jobs=jobs).run_once(job) is None
    assert ran == []


def test_job_health_is_for_admins_only(hub: Hub) -> None:
    admin, member = hub.member(role="admin"), hub.member()
    with hub.worker():
        deadline = time.monotonic() + 20
        with hub.client(admin) as client:
            while True:
                response = client.get(f"{hub.base_url}/admin/jobs")
                assert response.status_code == 200, response.text
                jobs = {job["name"]: job for job in response.json()}
                publication = jobs["network-publication"]
                if publication["last_success"] or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
    assert set(jobs) >= {"network-publication", "network-ageing"}
    assert publication["last_success"] is not None and publication["backlog"] == 0
    assert publication["interval_seconds"] == hub.settings.publish_interval_seconds
    with hub.client(member) as client:
        refused = client.get(f"{hub.base_url}/admin/jobs")
    assert refused.status_code == 403
    assert refused.json()["title"] == "Forbidden"
