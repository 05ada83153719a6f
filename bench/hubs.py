"""Hubs under test: fresh databases, a hub server in a child process, and in-process access
to the same database for filling stores and publishing the network view."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench.servers import child_server
from bench.stix import signed_indicators
from cityshield.config import Settings
from cityshield.db import is_postgres, make_engine, session_scope
from cityshield.dedup.hub_context import HubContext
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


@contextmanager
def running_hub(backend: str, url: str) -> Iterator[Hub]:
    """The hub in a child process (via tests.utils.server.start_hub) plus our own engine.

    ``hub.settings.home`` is the child's data directory, so :func:`network_context` loads
    the same hub key the server signs with.
    """
    with hub_process(backend, url) as (hub, _pid):
        yield hub


@contextmanager
def hub_process(backend: str, url: str) -> Iterator[tuple[Hub, int]]:
    """:func:`running_hub` and the pid of the server's process (whose memory
    ``bench.memory`` reads in /proc)."""
    with child_server("hub", backend, url) as server:
        engine = make_engine(url)
        settings = Settings(home=Path(server["home"]), database_url=url, environment="test")
        try:
            yield Hub(backend, settings, engine, server["base_url"]), int(server["pid"])
        finally:
            engine.dispose()


def settle(hub: Hub) -> None:
    """After a bulk fill: on PostgreSQL, refresh the planner's statistics, as autovacuum
    would within a minute. Measured right after a fill without them, the planner takes the
    tables for nearly empty and scans a whole collection per envelope."""
    if is_postgres(hub.engine):
        with hub.engine.begin() as connection:
            connection.execute(text("ANALYZE"))


def objects_url(hub: Hub, collection_id: str) -> str:
    return f"{hub.api_root}collections/{collection_id}/objects/"


def network_context(hub: Hub) -> HubContext:
    """What the server's publish loop uses (hub identity and key, allowlist, lifetimes)."""
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
    verified, audiences written; with ``network``, ``submissions`` feeds dedup)."""
    with session_scope(hub.engine) as session:
        caller = caller_for_token(session, token=member.token, name=member.name)
        assert caller is not None
        collection = get_collection_or_raise(session, collection_id)
        status = add_objects(
            session, caller=caller, collection=collection, objects=objects, network=network
        )
        assert status.failure_count == 0, status.details[:300]


def fill(hub: Hub, member: TestMember, collection_id: str, count: int, batch: int = 5_000) -> None:
    """Store ``count`` more signed indicators through the hub's ingest path, in batches."""
    for start in range(0, count, batch):
        store(hub, member, collection_id, signed_indicators(member, min(batch, count - start)))
