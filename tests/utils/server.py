"""Run the real hub under uvicorn on 127.0.0.1 in a background thread."""

from __future__ import annotations

import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy import Engine

from cityshield.config import Settings
from cityshield.db import make_engine, session_scope
from cityshield.hub import ensure_hub
from cityshield.main import create_app
from cityshield.members.service import NewCredentials, create_member
from cityshield.migrate import upgrade
from cityshield.store.collections import create_collection
from tests.utils.postgres import free_port

TAXII = "application/taxii+json;version=2.1"


class ServerThread:
    """uvicorn.Server in a thread; stop() sets should_exit and joins."""

    def __init__(self, app: Any, port: int) -> None:
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


@dataclass
class Hub:
    """A running hub plus direct database access for test setup."""

    backend: str
    settings: Settings
    engine: Engine
    base_url: str
    thread: ServerThread | None = None
    _names: int = field(default=0)

    @property
    def api_root(self) -> str:
        return f"{self.base_url}/api1/"

    def unique(self, prefix: str) -> str:
        self._names += 1
        return f"{prefix}-{self._names}"

    def member(
        self, role: str = "member", groups: list[str] | None = None, name: str | None = None
    ) -> NewCredentials:
        with session_scope(self.engine) as session:
            return create_member(
                session, name=name or self.unique(role), role=role, groups=groups or []
            )

    def collection(
        self, read_roles: list[str] | None = None, write_roles: list[str] | None = None
    ) -> str:
        """A fresh collection (isolates a test's objects); returns its id."""
        alias = self.unique("col")
        with session_scope(self.engine) as session:
            return create_collection(
                session,
                alias=alias,
                title=alias,
                read_roles=["member", "analyst", "admin"] if read_roles is None else read_roles,
                write_roles=["member", "analyst", "admin"] if write_roles is None else write_roles,
            ).id

    def client(self, creds: NewCredentials, **kwargs: Any) -> httpx.Client:
        headers = {"Accept": TAXII, **kwargs.pop("headers", {})}
        return httpx.Client(
            base_url=self.api_root,
            auth=(creds.name, creds.token),
            headers=headers,
            timeout=60,
            **kwargs,
        )


def start_hub(backend: str, database_url: str | None, **overrides: Any) -> Hub:
    home = Path(tempfile.mkdtemp(prefix=f"cityshield-{backend}-"))
    settings = Settings(home=home, database_url=database_url, environment="test", **overrides)
    engine = make_engine(settings.effective_database_url)
    upgrade(engine)
    with session_scope(engine) as session:
        ensure_hub(session, home=home, name="test hub")
    port = free_port()
    thread = ServerThread(create_app(settings), port)
    thread.start()
    return Hub(backend, settings, engine, f"http://127.0.0.1:{port}", thread)
