"""Fresh databases for the hubs under test, and in-process access to a served hub's database
for what is set-up rather than measurement: filling stores through the hub's own ingest
path, and asking whether the worker has caught up."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cityshield.db import session_scope
from cityshield.dedup.hub_context import HubContext
from cityshield.dedup.service import has_pending_publication
from cityshield.flows.ingest import add_objects
from cityshield.hub.service import load_hub_context
from cityshield.members.service import caller_for_token
from cityshield.store.collections import get_collection_or_raise
from tests.utils.postgres import PostgresServer
from tests.utils.server import Hub, TestMember


@contextmanager
def databases(backend: str, workdir: Path) -> Iterator[tuple[Callable[[], str], list[int]]]:
    """A factory of fresh, empty database URLs for the chosen backend, and the pids of the
    database server's processes the benchmark started (the PostgreSQL postmaster, which
    pg_ctl detaches from this process tree), so their work counts as the benchmark's."""
    if backend == "sqlite":
        counter = itertools.count(1)
        yield (lambda: f"sqlite:///{workdir / f'hub{next(counter)}.db'}"), []
        return
    server = PostgresServer()
    server.start()
    try:
        pid_file = server.data / "postmaster.pid"
        pids = [int(pid_file.read_text().split()[0])] if pid_file.exists() else []
        yield server.create_database, pids
    finally:
        server.stop()


def objects_url(hub: Hub, collection_id: str) -> str:
    return f"{hub.api_root}collections/{collection_id}/objects/"


def network_context(hub: Hub) -> HubContext:
    """What the worker's publication job uses (hub identity and key, allowlist, lifetimes):
    in-process ingest needs it to feed dedup exactly as the API does."""
    with session_scope(hub.engine) as session:
        return load_hub_context(session, hub.settings)


def store(
    hub: Hub,
    member: TestMember,
    collection_id: str,
    objects: list[dict[str, Any]],
    network: HubContext | None = None,
) -> None:
    """Store signed objects in-process through the hub's one ingest path (signatures
    verified, audiences written; with ``network``, ``submissions`` feeds dedup and queues
    the IOCs for the served worker, exactly as a POST does)."""
    with session_scope(hub.engine) as session:
        caller = caller_for_token(session, token=member.token, name=member.name)
        assert caller is not None
        collection = get_collection_or_raise(session, collection_id)
        status = add_objects(
            session, caller=caller, collection=collection, objects=objects, network=network
        )
        assert status.failure_count == 0, status.details[:300]


def wait_published(hub: Hub, timeout_s: float) -> float | None:
    """Until the served worker has published every queued IOC and built every pending view
    (its publication job's own "has work" probe says no); seconds waited, None on timeout."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout_s:
        with session_scope(hub.engine) as session:
            if not has_pending_publication(session):
                return time.perf_counter() - start
        time.sleep(0.05)
    return None
