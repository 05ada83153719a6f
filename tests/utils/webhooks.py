"""A member's webhook endpoint for tests: a real HTTP server on 127.0.0.1 (a thread) that
checks every request with the ``standardwebhooks`` library, as a receiver would, keeps
what verified, answers 401 to what did not, and can be told to fail for a while."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from cityshield.db import session_scope
from cityshield.delivery.credentials import cipher
from cityshield.delivery.models import DeliveryReceipt, DeliveryTarget
from cityshield.delivery.webhooks import WEBHOOK, register_webhook
from cityshield.timefmt import now_micros
from tests.utils.delivery import receipts_of, target_of
from tests.utils.server import Hub, TestMember


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def payload(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.body)
        return value


class Receiver:
    """Answers 204 to each notification that verifies (503 while ``failing`` is positive,
    counting down), 401 to any that does not."""

    def __init__(self) -> None:
        self.secret: str | None = None
        self.received: list[Received] = []
        self.failed: list[Received] = []
        self.refused: list[tuple[Received, str]] = []
        self.failing = 0
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                got = Received(
                    {k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length)
                )
                status = receiver._answer(got)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/cityshield"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _answer(self, got: Received) -> int:
        try:
            Webhook(self.secret or "").verify(got.body, got.headers)
        except WebhookVerificationError as exc:
            with self._lock:
                self.refused.append((got, str(exc)))
            return 401
        with self._lock:
            if self.failing > 0:
                self.failing -= 1
                self.failed.append(got)
                return 503
            self.received.append(got)
        return 204

    def payloads(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r.payload for r in self.received]

    def patterns(self) -> list[str]:
        return [p["data"]["pattern"] for p in self.payloads()]


def register_hook(
    hub: Hub, member: TestMember, receiver: Receiver, *, urgent_only: bool = False
) -> DeliveryTarget:
    """Register the member's webhook and give the receiver its secret (shown once)."""
    with session_scope(hub.engine) as session:
        registered = register_webhook(
            session,
            member_name=member.name,
            url=receiver.url,
            urgent_only=urgent_only,
            fernet=cipher(hub.settings.home, hub.settings.delivery_secret_key),
            now_us=now_micros(),
        )
    assert registered.secret is not None and registered.secret.startswith("whsec_")
    receiver.secret = registered.secret
    return registered.target


def webhook_of(hub: Hub, member: TestMember) -> DeliveryTarget:
    return target_of(hub, member, WEBHOOK)


def webhook_receipts(hub: Hub, member: TestMember) -> list[DeliveryReceipt]:
    return receipts_of(hub, member, WEBHOOK)
