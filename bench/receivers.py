"""Members' own endpoints for the delivery section, each kind in processes of its own:
``python -m bench.receivers taxii N TOKEN`` serves N TAXII 2.1 API roots (``/r01/`` ...,
one writable collection each, Bearer TOKEN required), ``python -m bench.receivers
webhooks N`` serves N webhook paths (``/hooks/01`` ...), each verifying every notification
with the ``standardwebhooks`` package once told its secret. Each prints ``{"base_url",
"endpoints"}`` on one line, then serves until its stdin is closed (``bench.servers``).

They do what a member's receiver must for the hub's push client and webhook sender to count
an item delivered, and little else, so the figures are the hub's: a TAXII root answers its
API root and collection resources, takes each envelope (``POST .../objects/``) with a
*complete* status resource listing every object as a success (and keeps the status for
``GET .../status/ID/``), and a webhook path answers 204 to a notification that verifies.

What arrived is recorded per endpoint: objects (TAXII) or notifications (webhooks) and
requests counted, and for each *watched* id (``POST /_watch``; the benchmark watches an
urgent report's id before posting it) the first moment it arrived as an object's id or in
its corroboration's ``contributing_refs`` (a network indicator names the reports it
counts), read with ``time.monotonic()`` once the request's body is in: Linux's
``CLOCK_MONOTONIC`` is one clock for every process, so the benchmark compares it with the
moment its own POST was answered. ``GET /_arrivals`` returns all of it. Only watched ids are
kept, so memory stays flat under hours of background delivery.
"""

from __future__ import annotations

import sys
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import orjson
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from bench.servers import child_server
from cityshield.dedup.publish import CORROBORATION_EXTENSION_ID
from tests.utils.server import TAXII

COLLECTION = "5f2b6c1e-6a0e-4d0a-9a51-2b1e0c7d9e10"
"""The collection id of every TAXII root (each root is a different member's server)."""
MAX_CONTENT_LENGTH = 10 * 1024 * 1024
KEPT_STATUSES = 1_000
"""Status resources kept for ``GET status`` (every one is complete when first answered)."""


def taxii_name(n: int) -> str:
    return f"r{n:02d}"


def hook_name(n: int) -> str:
    return f"hooks/{n:02d}"


def object_keys(obj: Any) -> set[str]:
    """What a pushed object tells of: its id and the reports its corroboration counts."""
    if not isinstance(obj, dict):
        return set()
    keys = {obj["id"]} if isinstance(obj.get("id"), str) else set()
    extension = (obj.get("extensions") or {}).get(CORROBORATION_EXTENSION_ID) or {}
    keys.update(ref for ref in extension.get("contributing_refs") or [] if isinstance(ref, str))
    return keys


def notification_keys(payload: Any) -> set[str]:
    """What a webhook notification tells of: its indicator and the reports counted in it."""
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, dict):
        return set()
    keys = {data["indicator_id"]} if isinstance(data.get("indicator_id"), str) else set()
    refs = (data.get("corroboration") or {}).get("contributing_refs") or []
    keys.update(ref for ref in refs if isinstance(ref, str))
    return keys


def complete_status(objects: list[Any], *, now: str) -> dict[str, Any]:
    """A TAXII 2.1 status resource that takes every object of an envelope at once."""
    successes = [
        {"id": o["id"], "version": o.get("modified") or o.get("created")}
        for o in objects
        if isinstance(o, dict) and isinstance(o.get("id"), str)
    ]
    return {
        "id": str(uuid.uuid4()),
        "status": "complete",
        "request_timestamp": now,
        "total_count": len(successes),
        "success_count": len(successes),
        "successes": successes,
        "failure_count": 0,
        "pending_count": 0,
    }


class Arrivals:
    """Counts per endpoint, and when each watched id first arrived there."""

    def __init__(self, endpoints: Iterable[str]) -> None:
        self._lock = threading.Lock()
        self.watched: set[str] = set()
        self.counts = {name: {"items": 0, "requests": 0, "refused": 0} for name in endpoints}
        self.first: dict[str, dict[str, float]] = {name: {} for name in self.counts}

    def watch(self, ids: Iterable[str]) -> None:
        with self._lock:
            self.watched.update(ids)

    def record(self, endpoint: str, keys: set[str], items: int, at: float) -> None:
        with self._lock:
            self.counts[endpoint]["items"] += items
            self.counts[endpoint]["requests"] += 1
            first = self.first[endpoint]
            for key in keys & self.watched:
                first.setdefault(key, at)

    def refused(self, endpoint: str) -> None:
        with self._lock:
            self.counts[endpoint]["refused"] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                name: {**counts, "first": dict(self.first[name])}
                for name, counts in self.counts.items()
            }


class Receivers:
    """The state behind one process's endpoints (TAXII roots or webhook paths)."""

    def __init__(self, kind: str, count: int, token: str = "") -> None:
        self.kind = kind
        self.token = token
        name = taxii_name if kind == "taxii" else hook_name
        self.names = [name(n) for n in range(1, count + 1)]
        self.arrivals = Arrivals(self.names)
        self.secrets: dict[str, str] = {}
        self.statuses: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def keep_status(self, status: dict[str, Any]) -> bytes:
        body = orjson.dumps(status)
        with self._lock:
            self.statuses[status["id"]] = body
            while len(self.statuses) > KEPT_STATUSES:
                self.statuses.popitem(last=False)
        return body

    def status(self, status_id: str) -> bytes | None:
        with self._lock:
            return self.statuses.get(status_id)


def _now_stamp() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


def handler(state: Receivers) -> type[BaseHTTPRequestHandler]:
    """A keep-alive HTTP/1.1 handler over ``state`` (the hub's clients reuse connections)."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_args: Any) -> None:
            pass

        def _send(self, status: int, body: bytes = b"", content_type: str = TAXII) -> None:
            self.send_response(status)
            if body:
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _root(self) -> tuple[str, str] | None:
            """(endpoint, rest of the path) of an authorised TAXII request, else None."""
            name, _, rest = self.path.lstrip("/").partition("/")
            if state.kind != "taxii" or name not in state.arrivals.counts:
                return None
            if self.headers.get("Authorization") != f"Bearer {state.token}":
                return None
            return name, rest

        def do_GET(self) -> None:
            if self.path == "/_arrivals":
                self._send(200, orjson.dumps(state.arrivals.snapshot()), "application/json")
                return
            root = self._root()
            if root is None:
                self._send(404 if state.kind != "taxii" else 401)
                return
            name, rest = root
            if rest == "":
                info = {
                    "title": name,
                    "versions": [TAXII],
                    "max_content_length": MAX_CONTENT_LENGTH,
                }
                self._send(200, orjson.dumps(info))
            elif rest == f"collections/{COLLECTION}/":
                collection = {
                    "id": COLLECTION,
                    "title": f"{name} inbox",
                    "can_read": False,
                    "can_write": True,
                    "media_types": [TAXII],
                }
                self._send(200, orjson.dumps(collection))
            elif rest.startswith("status/"):
                body = state.status(rest.removeprefix("status/").strip("/"))
                if body is None:
                    self._send(404)
                else:
                    self._send(200, body)
            else:
                self._send(404)

        def do_POST(self) -> None:
            body = self._body()
            at = time.monotonic()
            if self.path == "/_watch":
                state.arrivals.watch(orjson.loads(body)["ids"])
                self._send(204)
            elif self.path == "/_secrets":
                state.secrets.update(orjson.loads(body))
                self._send(204)
            elif state.kind == "taxii":
                self._objects(body, at)
            else:
                self._notification(body, at)

        def _objects(self, body: bytes, at: float) -> None:
            root = self._root()
            if root is None or root[1] != f"collections/{COLLECTION}/objects/":
                self._send(404 if root else 401)
                return
            objects = orjson.loads(body).get("objects") or []
            keys = set().union(*map(object_keys, objects))
            state.arrivals.record(root[0], keys, len(objects), at)
            self._send(202, state.keep_status(complete_status(objects, now=_now_stamp())))

        def _notification(self, body: bytes, at: float) -> None:
            name = self.path.lstrip("/")
            if name not in state.arrivals.counts:
                self._send(404)
                return
            headers = {k.lower(): v for k, v in self.headers.items()}
            secret = state.secrets.get(name)
            try:
                if secret is None:
                    raise WebhookVerificationError("no secret for this path yet")
                payload = Webhook(secret).verify(body, headers)
            except WebhookVerificationError:
                state.arrivals.refused(name)
                self._send(401)
                return
            state.arrivals.record(name, notification_keys(payload), 1, at)
            self._send(204)

    return Handler


# --------------------------------------------------------------------------------------------
# The benchmark's side: start the processes, tell them what to watch, ask what arrived.


def process_sizes(endpoints: int, per_process: int) -> list[int]:
    """How many TAXII roots each process serves: ``per_process`` at most, evenly spread."""
    processes = max(1, -(-endpoints // per_process))
    return [endpoints // processes + (i < endpoints % processes) for i in range(processes)]


@dataclass
class Fleet:
    """The running endpoints: TAXII API root URLs and webhook URLs, one per member."""

    taxii: list[str]
    hooks: list[str]
    processes: list[str]
    """Each process's base URL (``/_watch``, ``/_secrets``, ``/_arrivals``)."""
    http: httpx.Client

    def watch(self, ids: Iterable[str]) -> None:
        body = orjson.dumps({"ids": list(ids)})
        for base in self.processes:
            self.http.post(f"{base}/_watch", content=body).raise_for_status()

    def give_secrets(self, secrets: dict[str, str]) -> None:
        """Each webhook's secret (by its URL), as a member's receiver is given it once."""
        for base in self.processes:
            mine = {
                url.removeprefix(f"{base}/"): s
                for url, s in secrets.items()
                if url.startswith(base)
            }
            if mine:
                self.http.post(f"{base}/_secrets", content=orjson.dumps(mine)).raise_for_status()

    def arrivals(self) -> dict[str, dict[str, Any]]:
        """Endpoint URL -> its counts and the first arrival of each watched id."""
        found: dict[str, dict[str, Any]] = {}
        for base in self.processes:
            answer = self.http.get(f"{base}/_arrivals")
            answer.raise_for_status()
            for name, figures in orjson.loads(answer.content).items():
                found[endpoint_url(base, name)] = figures
        return found


def endpoint_url(base: str, name: str) -> str:
    """A TAXII root's API root URL (with its slash), or a webhook path's URL."""
    return f"{base}/{name}" if name.startswith("hooks/") else f"{base}/{name}/"


@contextmanager
def fleet(members: int, *, token: str, per_process: int = 5) -> Iterator[Fleet]:
    """``members`` TAXII roots in processes of ``per_process`` roots at most, and as many
    webhook paths in one process of their own."""
    with ExitStack() as stack:
        http = stack.enter_context(httpx.Client(timeout=30))
        taxii: list[str] = []
        processes: list[str] = []
        for count in process_sizes(members, per_process):
            started = stack.enter_context(
                child_server("taxii", str(count), token, module="bench.receivers")
            )
            processes.append(started["base_url"])
            taxii += [endpoint_url(started["base_url"], n) for n in started["endpoints"]]
        started = stack.enter_context(
            child_server("webhooks", str(members), module="bench.receivers")
        )
        processes.append(started["base_url"])
        hooks = [endpoint_url(started["base_url"], n) for n in started["endpoints"]]
        yield Fleet(taxii, hooks, processes, http)


def main(argv: list[str]) -> None:
    if len(argv) < 2 or argv[0] not in ("taxii", "webhooks") or not argv[1].isdigit():
        raise SystemExit("usage: python -m bench.receivers taxii N TOKEN | webhooks N")
    kind, count = argv[0], int(argv[1])
    state = Receivers(kind, count, argv[2] if len(argv) > 2 else "")
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler(state))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{server.server_address[1]}"
    print(orjson.dumps({"base_url": base_url, "endpoints": state.names}).decode(), flush=True)
    sys.stdin.read()
    server.shutdown()
    server.server_close()


if __name__ == "__main__":
    main(sys.argv[1:])
