"""Shared fixtures: the real hub under uvicorn, on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.utils.postgres import PostgresServer, find_pg_bin
from tests.utils.server import Hub, running_hub

BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    if find_pg_bin() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is required in CI (apt-get install postgresql)")
        pytest.skip("PostgreSQL binaries not installed")
    server = PostgresServer()
    server.start()
    yield server
    server.stop()


def database_url(backend: str, request: pytest.FixtureRequest) -> str | None:
    if backend == "sqlite":
        return None
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.create_database()


@pytest.fixture(scope="session", params=BACKENDS)
def hub(request: pytest.FixtureRequest) -> Iterator[Hub]:
    """A running hub per backend, shared by the session; tests isolate by fresh members
    and collections."""
    backend = request.param
    with running_hub(backend, database_url(backend, request), max_page_size=500) as running:
        yield running


@pytest.fixture(scope="module", params=BACKENDS)
def policy_hub(request: pytest.FixtureRequest) -> Iterator[Hub]:
    """A hub of its own for a test module that changes the global sharing policy."""
    backend = request.param
    with running_hub(backend, database_url(backend, request)) as running:
        yield running
