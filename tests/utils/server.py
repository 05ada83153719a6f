"""Run the real hub under uvicorn on 127.0.0.1 in a background thread."""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import uvicorn
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine

from cityshield.config import Settings
from cityshield.db import make_engine, session_scope
from cityshield.dedup.service import publish_pending
from cityshield.flows.ingest import add_objects
from cityshield.flows.members import add_member
from cityshield.hub.service import ensure_hub, get_hub_identity, load_hub_context
from cityshield.main import create_app
from cityshield.members.service import caller_for_token
from cityshield.migrate import upgrade
from cityshield.serving import UVICORN_OPTIONS
from cityshield.signing.keys import generate_private_key
from cityshield.signing.registry import register_key
from cityshield.signing.scheme import sign_object
from cityshield.stix.vocabulary import is_predefined_marking
from cityshield.store.collections import (
    SUBMISSIONS_ALIAS,
    create_collection,
    get_collection_by_alias,
)
from cityshield.store.models import Status
from cityshield.worker.run import Worker
from tests.utils.postgres import free_port

TAXII = "application/taxii+json;version=2.1"


@dataclass
class TestMember:
    """A member's credentials plus a registered signing key."""

    __test__ = False  # not a pytest test class, despite the name

    name: str
    identity_id: str
    token: str
    key: Ed25519PrivateKey
    member_id: int

    def sign(self, *objects: dict[str, Any]) -> list[dict[str, Any]]:
        return [o if is_predefined_marking(o) else sign_object(o, self.key) for o in objects]

    def signed_envelope(self, *objects: dict[str, Any]) -> dict[str, Any]:
        return {"objects": self.sign(*objects)}


def sign_envelope_bytes(content: bytes, member: TestMember) -> bytes:
    """Sign each object of a JSON envelope; leave anything unparseable as it is, so tests of
    malformed input still send exactly what they mean to."""
    try:
        envelope = orjson.loads(content)
    except orjson.JSONDecodeError:
        return content
    if not isinstance(envelope, dict) or not isinstance(envelope.get("objects"), list):
        return content
    envelope["objects"] = [
        member.sign(o)[0] if isinstance(o, dict) and isinstance(o.get("id"), str) else o
        for o in envelope["objects"]
    ]
    return orjson.dumps(envelope)


class SigningClient(httpx.Client):
    """An httpx client that signs the objects of every envelope it POSTs as its member."""

    def __init__(self, member: TestMember | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.member = member

    def post(self, url: Any, *, content: Any = None, **kwargs: Any) -> httpx.Response:  # type: ignore[override]
        if self.member is not None and isinstance(content, bytes):
            content = sign_envelope_bytes(content, self.member)
        return super().post(url, content=content, **kwargs)


class ServerThread:
    """uvicorn.Server in a thread; stop() sets should_exit and joins."""

    def __init__(self, app: Any, port: int) -> None:
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", **UVICORN_OPTIONS
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
    ) -> TestMember:
        """A new member with one registered signing key, added as ``member add`` does (so
        the hub publishes its identity)."""
        key = generate_private_key()
        with session_scope(self.engine) as session:
            creds = add_member(
                session,
                home=self.settings.home,
                name=name or self.unique(role),
                role=role,
                groups=groups or [],
            )
            caller = caller_for_token(session, token=creds.token)
            assert caller is not None
            register_key(session, public_key=key.public_key(), member_id=caller.member_id)
        if self.initialised:
            self.publish_network()  # its network views, as serve builds them within a moment
        return TestMember(creds.name, creds.identity_id, creds.token, key, caller.member_id)

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

    @property
    def initialised(self) -> bool:
        """Whether the hub has its identity (benchmarks also use bare migrated stores)."""
        with session_scope(self.engine) as session:
            return get_hub_identity(session) is not None

    @contextmanager
    def worker(self, settings: Settings | None = None, **options: Any) -> Iterator[Worker]:
        """The real ``cityshield worker`` loop in a thread against this hub's database, as
        serve runs it beside the API (the test hub's app runs no jobs: tests decide)."""
        worker = Worker(settings or self.settings, self.engine, **options)
        stop = threading.Event()
        thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
        thread.start()
        try:
            yield worker
        finally:
            stop.set()
            thread.join(timeout=60)
            assert not thread.is_alive(), "the worker did not stop"

    def publish_network(self) -> int:
        """Publish pending network indicators and members' views now (the worker does it
        within a moment), until nothing is left (a pass builds a bounded number of views)."""
        total = 0
        for _ in range(1000):
            with session_scope(self.engine) as session:
                done = publish_pending(session, context=load_hub_context(session, self.settings))
            total += done
            if not done:
                return total
        raise RuntimeError("the network publisher did not catch up in 1000 passes")

    def client(self, creds: TestMember, *, sign: bool = True, **kwargs: Any) -> SigningClient:
        """A TAXII client authenticated as ``creds`` that signs what it posts (unless told
        not to)."""
        headers = {"Accept": TAXII, **kwargs.pop("headers", {})}
        return SigningClient(
            creds if sign else None,
            base_url=self.api_root,
            auth=(creds.name, creds.token),
            headers=headers,
            timeout=60,
            **kwargs,
        )


def submit(
    hub: Hub,
    member: TestMember,
    *objects: dict[str, Any],
    collection: str = "submissions",
    sign: bool = True,
    clean: bool = True,
) -> dict[str, Any]:
    """POST an envelope as ``member`` and return the status; with ``clean`` every object
    must have been accepted. The network view is then published, as the worker would within
    a moment (test hubs run no worker unless a test starts one, so tests decide when)."""
    with hub.client(member, sign=sign) as client:
        response = client.post(
            f"collections/{collection}/objects/",
            content=orjson.dumps({"objects": list(objects)}),
            headers={"Content-Type": TAXII},
        )
    assert response.status_code == 202, response.text
    status: dict[str, Any] = response.json()
    if clean:
        assert status["failure_count"] == 0, status["failures"]
    hub.publish_network()
    return status


def ingest_in_process(
    hub: Hub, member: TestMember, *objects: dict[str, Any], **options: Any
) -> Status:
    """Store ``member``'s objects, signed, in ``submissions`` through the hub's own ingest
    (``flows.ingest.add_objects``) in-process and committed, as a POST does, without
    publishing: for tests that decide when the publisher runs, or that pass ``add_objects``
    an option no HTTP request can (``validate=``)."""
    with session_scope(hub.engine) as session:
        caller = caller_for_token(session, token=member.token, name=member.name)
        assert caller is not None
        return add_objects(
            session,
            caller=caller,
            collection=get_collection_by_alias(session, SUBMISSIONS_ALIAS),
            objects=member.sign(*objects),
            network=load_hub_context(session, hub.settings),
            **options,
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


@contextmanager
def running_hub(backend: str, database_url: str | None, **overrides: Any) -> Iterator[Hub]:
    """A hub (``start_hub``) that is stopped afterwards, whatever happened meanwhile: its
    server thread ends and its engine's connections close, or a module's PostgreSQL
    database could not be dropped."""
    hub = start_hub(backend, database_url, **overrides)
    try:
        yield hub
    finally:
        if hub.thread:
            hub.thread.stop()
        hub.engine.dispose()
