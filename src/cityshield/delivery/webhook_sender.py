"""Sending webhook notifications: one signed POST each, with httpx, from the worker.

Headers are the Standard Webhooks ones, made by the ``standardwebhooks`` package:
``webhook-id`` (``msg_`` and a digest of the target, the indicator id and its version, so a
retried notification has the same id and a receiver dedupes by it), ``webhook-timestamp``
(when this attempt was signed, in seconds: receivers refuse old ones, so it is fresh on
each attempt) and ``webhook-signature`` (``v1,`` HMAC-SHA256 of ``id.timestamp.body``).

Per notification: a 2xx answer means delivered; 400, 413 or 422 mean the receiver refuses
that notification (receipted as rejected, the rest goes on, ``outbox retry --rejected``
sends it again); anything else (unreachable, a timeout, a redirect, 401/403/404, 429,
5xx) is the webhook's failure, and the rest of the batch waits for the retry with backoff.
Every request has the webhook's timeout (connect, write, read, pool): a slow receiver
holds one delivery thread for that long, never the others; no database transaction is
open meanwhile (``delivery.run``). Redirects are not followed: the member registered a URL,
and a signature is for the URL it was registered for.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from datetime import UTC, datetime

import httpx
import orjson
from standardwebhooks.webhooks import Webhook

from cityshield import __version__
from cityshield.client.push import PushItem, PushResult
from cityshield.delivery.run import Destination, OpenSender, Sender

REFUSED = frozenset({400, 413, 422})
"""Answers that refuse one notification rather than the sender."""


def message_id(target_id: int, object_id: str, version: str | None) -> str:
    digest = hashlib.sha256(f"{target_id}\n{object_id}\n{version}".encode()).hexdigest()
    return f"msg_{digest[:32]}"


class WebhookSender:
    """An open connection pool to one webhook, and its signer."""

    def __init__(self, destination: Destination, *, timeout_s: float) -> None:
        self._destination = destination
        self._signer = Webhook(destination.credentials.secret or "")
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout_s),
            follow_redirects=False,
            headers={
                "Content-Type": "application/json",
                "User-Agent": f"cityshield/{__version__} (webhooks)",
            },
        )

    def push(self, items: Sequence[PushItem]) -> PushResult:
        """POST each notification in order; stop at the first failure (see module doc)."""
        result = PushResult()
        for item in items:
            version = orjson.loads(item.body).get("timestamp")
            msg_id = message_id(self._destination.target_id, item.object_id, version)
            now = int(time.time())
            headers = {
                "webhook-id": msg_id,
                "webhook-timestamp": str(now),
                "webhook-signature": self._signer.sign(
                    msg_id, datetime.fromtimestamp(now, UTC), item.body
                ),
            }
            url = self._destination.url
            try:
                answer = self._client.post(url, content=item.body.encode(), headers=headers)
            except httpx.HTTPError as exc:
                result.error = f"cannot reach {url}: {type(exc).__name__}: {exc}"[:500]
                return result
            if 200 <= answer.status_code < 300:
                result.delivered.add(item.object_id)
            elif answer.status_code in REFUSED:
                text = answer.text[:300].strip()
                result.rejected[item.object_id] = f"HTTP {answer.status_code}: {text}"
            else:
                result.error = f"{url} answered HTTP {answer.status_code}"
                return result
        return result

    def close(self) -> None:
        self._client.close()


def webhook_opener(*, timeout_s: float) -> OpenSender:
    def open_webhook(destination: Destination) -> Sender:
        return WebhookSender(destination, timeout_s=timeout_s)

    return open_webhook
