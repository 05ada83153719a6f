"""Clients that stall on the network must not starve everybody else.

A request waiting on the network (a body that trickles in, a response its client does not
read) holds no database connection: more such clients than the pool has connections, and
other members are still served at once. A body that is too slow gets a TAXII 408.
"""

from __future__ import annotations

import base64
import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import orjson
import pytest

from tests.conftest import BACKENDS, database_url
from tests.utils.server import TAXII, Hub, TestMember, running_hub, submit
from tests.utils.stix import envelope, indicator

IDLE_S = 4.0
TOTAL_S = 8.0
STALLED = 40  # more than either pool holds (SQLite 5 + 10 overflow, PostgreSQL 10 + 20)
PROMPT_S = 3.0


@pytest.fixture(scope="module", params=BACKENDS)
def slow_hub(request: pytest.FixtureRequest) -> Iterator[Hub]:
    """A hub with short body deadlines, so the test sees them pass."""
    backend = request.param
    with running_hub(
        backend,
        database_url(backend, request),
        body_idle_timeout_seconds=IDLE_S,
        body_timeout_seconds=TOTAL_S,
    ) as running:
        yield running


def _connect(hub: Hub, receive_buffer: int | None = None) -> socket.socket:
    address = urlsplit(hub.base_url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if receive_buffer is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.connect((address.hostname, address.port))
    return sock


def _head(hub: Hub, member: TestMember, method: str, path: str, extra: str = "") -> bytes:
    credentials = base64.b64encode(f"{member.name}:{member.token}".encode()).decode()
    host = urlsplit(hub.base_url).netloc
    return (
        f"{method} /api1/{path} HTTP/1.1\r\nHost: {host}\r\n"
        f"Authorization: Basic {credentials}\r\nAccept: {TAXII}\r\n{extra}\r\n"
    ).encode()


def _stalled_post(hub: Hub, member: TestMember, collection: str) -> socket.socket:
    """A POST that declares 100 kB and sends 14 bytes of it."""
    sock = _connect(hub)
    sock.sendall(
        _head(
            hub,
            member,
            "POST",
            f"collections/{collection}/objects/",
            f"Content-Type: {TAXII}\r\nContent-Length: 100000\r\n",
        )
        + b'{"objects": [\n'
    )
    return sock


def _read_response(sock: socket.socket, deadline: float) -> tuple[int, dict[str, str], float]:
    """Status, TAXII error body and arrival time of the response on a raw socket."""
    data = b""
    while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    arrived = time.monotonic()
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body), arrived


def _served_promptly(hub: Hub, member: TestMember, collection: str) -> None:
    """A GET and a POST from an ordinary client, each answered within PROMPT_S."""
    with hub.client(member) as client:
        client.timeout = httpx.Timeout(PROMPT_S + 2)
        for _ in range(3):
            started = time.monotonic()
            assert client.get("collections/").status_code == 200
            assert time.monotonic() - started < PROMPT_S
            started = time.monotonic()
            response = client.post(
                f"collections/{collection}/objects/",
                content=orjson.dumps(envelope(indicator())),
                headers={"Content-Type": TAXII},
            )
            assert response.status_code == 202, response.text
            assert time.monotonic() - started < PROMPT_S


def test_stalled_uploads_hold_no_connection_and_get_408(slow_hub: Hub) -> None:
    member, other = slow_hub.member(), slow_hub.member()
    collection = slow_hub.collection()
    started = time.monotonic()
    idle = [_stalled_post(slow_hub, member, collection) for _ in range(STALLED // 2)]
    trickling = [_stalled_post(slow_hub, member, collection) for _ in range(STALLED // 2)]
    stop = threading.Event()

    def trickle() -> None:  # never idle for IDLE_S, so only the total deadline stops them
        while not stop.wait(0.5):
            for sock in trickling:
                with contextlib.suppress(OSError):  # the hub may have answered already
                    sock.sendall(b" ")

    feeder = threading.Thread(target=trickle, daemon=True)
    feeder.start()
    try:
        time.sleep(0.5)  # every stalled request is authenticated and waiting for its body
        _served_promptly(slow_hub, other, collection)
        assert time.monotonic() - started < IDLE_S  # ... while all of them still stalled
        for sock in idle:
            status, body, arrived = _read_response(sock, started + TOTAL_S + 10)
            assert status == 408, body
            assert body["title"] and f"{IDLE_S:g} s" in body["description"]
            assert IDLE_S - 0.5 <= arrived - started < TOTAL_S
        for sock in trickling:
            status, body, arrived = _read_response(sock, started + TOTAL_S + 10)
            assert status == 408, body
            assert body["http_status"] == "408"
            assert TOTAL_S - 0.5 <= arrived - started < TOTAL_S + 5
    finally:
        stop.set()
        feeder.join()
        for sock in idle + trickling:
            sock.close()


def test_unread_responses_hold_no_connection(slow_hub: Hub) -> None:
    """Clients that ask for a large page and never read it stall the hub's send, not the
    database: the session is closed before the response goes out."""
    member, other = slow_hub.member(), slow_hub.member()
    collection = slow_hub.collection()
    submit(
        slow_hub,
        member,
        *[indicator(description="x" * 6000) for _ in range(500)],
        collection=collection,
    )
    readers = []
    try:
        for _ in range(STALLED):
            sock = _connect(slow_hub, receive_buffer=1024)
            sock.sendall(_head(slow_hub, member, "GET", f"collections/{collection}/objects/"))
            readers.append(sock)
        time.sleep(1.0)  # every page was built and is stuck in the send
        _served_promptly(slow_hub, other, collection)
    finally:
        for sock in readers:
            sock.close()


def test_an_oversized_request_head_is_refused(hub: Hub) -> None:
    """A header that never ends is refused at 64 KiB instead of being buffered whole
    (httptools held 13 MB of one header), before any authentication or database work."""
    sock = _connect(hub)
    try:
        sock.sendall(b"GET /taxii2/ HTTP/1.1\r\nHost: x\r\nX-Filler: ")
        with contextlib.suppress(OSError):  # the hub may close while we still send
            for _ in range(64):
                sock.sendall(b"a" * 16384)
        sock.settimeout(10)
        answer = b""
        with contextlib.suppress(OSError):
            while chunk := sock.recv(65536):
                answer += chunk
    finally:
        sock.close()
    assert answer.startswith(b"HTTP/1.1 400"), answer[:100]
