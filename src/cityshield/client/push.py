"""Push objects to a member's own TAXII 2.1 collection and learn, per object, what came of it.

Built on taxii2-client, as ``submit`` is. Each envelope is POSTed, then its status resource
is followed until ``complete`` (or a deadline), and the answer is taken per object:

- in the status's ``failures``: refused, with the receiver's message, unless the receiver
  already holds that very version (it was sent before and its answer was lost to a crash:
  medallion, for one, reports a second copy as a failure). That is checked with a read of
  the object's versions where the collection is readable;
- ``pending`` when the deadline passed: unresolved, sent again later;
- otherwise delivered.

A whole envelope refused as content (400, 413, 422) is split in halves until the one
object the receiver objects to is found and refused alone; anything else (unreachable,
timeouts, 401/403/404, 429, 5xx, an answer that is not TAXII) is the target's failure, and
the caller retries later. Envelopes are built by joining the stored JSON texts, never
re-serialised (a re-serialisation breaks signatures), and kept under the receiver's
``max_content_length``.

Every request has a timeout (connect and each read): a receiver that accepts a connection
and never answers costs one delivery thread for that long, not the hub's other targets.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase, HTTPBasicAuth
from taxii2client.common import _HTTPConnection
from taxii2client.exceptions import TAXIIServiceException
from taxii2client.v21 import ApiRoot, Collection, Status

from cityshield import __version__
from cityshield.client.errors import HubClientError
from cityshield.client.taxii import api_root_url, http_error_text
from cityshield.timefmt import parse_timestamp

CONTENT_ERRORS = frozenset({400, 413, 422})
"""Statuses that refuse what was sent rather than the sender: split and find the culprit."""
ENVELOPE_OVERHEAD = len('{"objects":[]}')


@dataclass(frozen=True)
class PushItem:
    object_id: str
    version: str | None
    """``modified``, else ``created``; None for objects that have neither."""
    body: str
    """The object's JSON text as stored."""


@dataclass
class PushResult:
    delivered: set[str] = field(default_factory=set)
    rejected: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    """Why the rest was not sent or not resolved; the target failed this time."""


class BearerAuth(AuthBase):
    """``Authorization: Bearer TOKEN`` (taxii2-client's own ``TokenAuth`` says ``Token``)."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: Any) -> Any:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self) -> str:
        return "BearerAuth(***)"


class _TimeoutAdapter(HTTPAdapter):
    """Gives every request the target's timeout: taxii2-client sets none, and requests
    would then wait for a silent receiver forever."""

    def __init__(self, timeout_s: float) -> None:
        super().__init__()
        self._timeout_s = timeout_s

    def send(self, request: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout_s
        return super().send(request, **kwargs)


class TaxiiPush:
    """One member's TAXII 2.1 collection, open for pushing (use as a context manager)."""

    def __init__(
        self,
        *,
        api_root: str,
        collection_id: str,
        user: str | None = None,
        password: str | None = None,
        token: str | None = None,
        timeout_s: float = 30,
        status_timeout_s: float = 60,
    ) -> None:
        self.url = api_root_url(api_root)
        self._status_timeout_s = status_timeout_s
        auth: Any = None
        if token:
            auth = BearerAuth(token)
        elif user is not None and password is not None:
            auth = HTTPBasicAuth(user, password)
        self._conn = _HTTPConnection(
            version="2.1", auth=auth, user_agent=f"cityshield/{__version__}"
        )
        adapter = _TimeoutAdapter(timeout_s)
        self._conn.session.mount("http://", adapter)
        self._conn.session.mount("https://", adapter)
        self._collection = Collection(f"{self.url}collections/{collection_id}/", conn=self._conn)
        self._max_bytes = 0
        self._readable = False

    def __enter__(self) -> TaxiiPush:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._conn.close()

    def open(self) -> None:
        """Read the API root and the collection; HubClientError if they cannot be used."""
        try:
            self._max_bytes = int(ApiRoot(self.url, conn=self._conn).max_content_length or 0)
            if not self._collection.can_write:
                raise HubClientError(f"collection {self._collection.url} is not writable")
            self._readable = bool(self._collection.can_read)
        except requests.HTTPError as exc:
            raise HubClientError(http_error_text(exc)) from exc
        except requests.RequestException as exc:
            raise HubClientError(f"cannot reach {self.url}: {_reason(exc)}") from exc
        except (TAXIIServiceException, ValueError, TypeError) as exc:
            raise HubClientError(f"unexpected TAXII response from {self.url}: {exc}") from exc

    def push(self, items: Sequence[PushItem]) -> PushResult:
        """Send ``items`` (one version per object id) in as few envelopes as fit."""
        result = PushResult()
        for envelope in self._envelopes(items):
            self._post(envelope, result)
            if result.error:
                break
        return result

    def _envelopes(self, items: Sequence[PushItem]) -> list[list[PushItem]]:
        if not self._max_bytes:
            return [list(items)] if items else []
        envelopes: list[list[PushItem]] = [[]]
        size = ENVELOPE_OVERHEAD
        for item in items:
            length = len(item.body.encode()) + 1
            if envelopes[-1] and size + length > self._max_bytes:
                envelopes.append([])
                size = ENVELOPE_OVERHEAD
            envelopes[-1].append(item)
            size += length
        return envelopes

    def _post(self, items: list[PushItem], result: PushResult) -> None:
        data = ('{"objects":[' + ",".join(item.body for item in items) + "]}").encode()
        try:
            status = self._collection.add_objects(data, wait_for_completion=False)
        except requests.HTTPError as exc:
            code = exc.response.status_code if exc.response is not None else None
            if code not in CONTENT_ERRORS:
                result.error = http_error_text(exc)
            elif len(items) > 1:
                half = len(items) // 2
                self._post(items[:half], result)
                if not result.error:
                    self._post(items[half:], result)
            else:
                result.rejected[items[0].object_id] = http_error_text(exc)
            return
        except requests.RequestException as exc:
            result.error = f"cannot reach {self.url}: {_reason(exc)}"
            return
        except (TAXIIServiceException, ValueError, TypeError, KeyError) as exc:
            result.error = f"unexpected TAXII response from {self.url}: {exc}"
            return
        try:
            self._follow(status)
        except requests.HTTPError as exc:
            result.error = f"following status {status.id}: {http_error_text(exc)}"
        except requests.RequestException as exc:
            result.error = f"following status {status.id} at {self.url}: {_reason(exc)}"
        except (TAXIIServiceException, ValueError, TypeError) as exc:
            result.error = f"unexpected status resource from {self.url}: {exc}"
        self._settle(items, status, result)

    def _follow(self, status: Status) -> None:
        """Poll the status resource until it is complete or the deadline passes, quickly
        at first (most receivers finish a small envelope at once)."""
        deadline = time.monotonic() + self._status_timeout_s
        pause = 0.05
        while status.status != "complete" and time.monotonic() < deadline:
            time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
            status.refresh()
            pause = min(pause * 2, 1.0)

    def _settle(self, items: list[PushItem], status: Status, result: PushResult) -> None:
        failures = {_id(f): f.get("message") or "refused" for f in status.failures or []}
        pending = {_id(p) for p in status.pendings or []}
        complete = status.status == "complete"
        for item in items:
            if item.object_id in failures:
                if self._holds(item):
                    result.delivered.add(item.object_id)
                else:
                    result.rejected[item.object_id] = str(failures[item.object_id])
            elif complete or (item.object_id not in pending and _succeeded(status, item)):
                result.delivered.add(item.object_id)
        if not complete and not result.error:
            result.error = (
                f"status {status.id} at {self.url} still {status.status!r} after "
                f"{self._status_timeout_s:g} s"
            )

    def _holds(self, item: PushItem) -> bool:
        """Whether the receiver already has this version (False when it cannot be read)."""
        if not self._readable:
            return False
        try:
            answer = self._collection.object_versions(item.object_id)
        except (requests.RequestException, TAXIIServiceException, ValueError):
            return False
        versions = answer.get("versions") or [] if isinstance(answer, dict) else []
        if item.version is None:
            return bool(versions)
        wanted = parse_timestamp(item.version)
        for version in versions:
            try:
                if parse_timestamp(version) == wanted:
                    return True
            except ValueError:
                continue
        return False


def _id(detail: Any) -> str | None:
    return detail.get("id") if isinstance(detail, dict) else None


def _succeeded(status: Status, item: PushItem) -> bool:
    return any(_id(s) == item.object_id for s in status.successes or [])


def _reason(exc: requests.RequestException) -> str:
    """A short reason: requests' messages nest the whole urllib3 chain."""
    text = str(exc)
    return text if len(text) <= 300 else text[:300] + "..."
