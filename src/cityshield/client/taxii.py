"""Send objects to a hub collection over TAXII 2.1, in batches, and sum up the statuses.

Built on taxii2-client, the library members' tools use, so the hub is exercised the way its
peers talk to it. Objects go out as plain JSON dicts exactly as given: a STIX library in
between would re-serialise them and break their signatures (docs/signing.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

import requests
from taxii2client.exceptions import TAXIIServiceException
from taxii2client.v21 import ApiRoot, Collection

from cityshield.client.errors import HubClientError

JSONObject = dict[str, Any]


def api_root_url(url: str) -> str:
    """TAXII URLs end with a slash (TAXII 2.1 §1.6.1); accept a root typed without one."""
    return url if url.endswith("/") else url + "/"


def hub_url(api_root: str, path: str) -> str:
    """A hub-level URL (e.g. ``.well-known/jwks.json``) next to an API root: the API root is
    one path segment below the hub, wherever the hub is mounted (``https://h/x/api1/`` ->
    ``https://h/x/PATH``)."""
    return urljoin(api_root_url(api_root), "../" + path)


@dataclass
class SubmitSummary:
    """What the hub said about every batch: the sums of its status resources."""

    total: int
    success_count: int = 0
    failure_count: int = 0
    pending_count: int = 0
    failures: list[JSONObject] = field(default_factory=list)
    status_ids: list[str] = field(default_factory=list)
    messages: list[JSONObject] = field(default_factory=list)
    """Accepted objects the hub said something about (whether it honoured an urgent mark)."""

    def as_json(self) -> JSONObject:
        shown: JSONObject = {
            "total": self.total,
            "success_count": self.success_count,
            "failure_count": self.failure_count,
            "pending_count": self.pending_count,
            "failures": self.failures,
            "status_ids": self.status_ids,
        }
        if self.messages:
            shown["messages"] = self.messages
        return shown


def submit_objects(
    *,
    api_root: str,
    collection: str,
    user: str,
    token: str,
    objects: list[JSONObject],
    batch: int = 500,
) -> SubmitSummary:
    """POST ``objects`` to the collection with this alias or id, ``batch`` per envelope.

    Raises :class:`HubClientError` when the hub cannot be used at all (unreachable, HTTP
    error, unknown or read-only collection); per-object refusals are in the summary. A
    failure after some batches were accepted says how many were sent, since those stay.
    """
    summary = SubmitSummary(total=len(objects))
    sent = 0
    url = api_root_url(api_root)
    try:
        with ApiRoot(url, user=user, password=token) as root:
            target = _writable_collection(root, collection, user=user, url=url)
            for start in range(0, len(objects), batch):
                chunk = objects[start : start + batch]
                status = target.add_objects({"objects": chunk}, wait_for_completion=True)
                sent += len(chunk)
                summary.status_ids.append(status.id)
                summary.success_count += status.success_count
                summary.failure_count += status.failure_count
                summary.pending_count += status.pending_count
                summary.failures += [
                    {"id": f.get("id"), "message": f.get("message")} for f in status.failures or []
                ]
                summary.messages += [
                    {"id": o.get("id"), "message": o["message"]}
                    for o in status.successes or []
                    if o.get("message")
                ]
    except requests.HTTPError as exc:
        raise HubClientError(_after(sent, len(objects)) + http_error_text(exc)) from exc
    except requests.RequestException as exc:
        raise HubClientError(f"{_after(sent, len(objects))}cannot reach {url}: {exc}") from exc
    except (TAXIIServiceException, ValueError) as exc:
        raise HubClientError(
            f"{_after(sent, len(objects))}unexpected TAXII response from {url}: {exc}"
        ) from exc
    return summary


def _writable_collection(root: ApiRoot, collection: str, *, user: str, url: str) -> Collection:
    target = next((c for c in root.collections if collection in (c.id, c.alias)), None)
    if target is None:
        names = ", ".join(sorted(c.alias or c.id for c in root.collections)) or "none"
        raise HubClientError(f"collection {collection!r} not found at {url} (visible: {names})")
    if not target.can_write:
        raise HubClientError(f"collection {collection!r} is not writable for {user}")
    return target


def http_error_text(exc: requests.HTTPError) -> str:
    """The TAXII error message's title/description if the body has one."""
    response = exc.response
    if response is None:
        return str(exc)
    return error_text(
        status=response.status_code, url=response.url, json=response.json, reason=response.reason
    )


def error_text(*, status: int, url: object, json: Callable[[], object], reason: str) -> str:
    """``HTTP <status> from <url>: `` and the TAXII error message's title and description
    when the body is one, else the reason phrase: what a hub or member server said, in the
    words it chose. For both HTTP clients (requests under taxii2-client, httpx for pulls);
    ``json`` parses the body (raising ValueError if it is no JSON)."""
    text = f"HTTP {status} from {url}"
    try:
        body = json()
    except ValueError:
        body = None
    if isinstance(body, dict) and (body.get("title") or body.get("description")):
        parts = [str(body[k]) for k in ("title", "description") if body.get(k)]
        return f"{text}: {': '.join(parts)}"
    return f"{text}: {reason}"


def _after(sent: int, total: int) -> str:
    return f"after {sent} of {total} objects were sent: " if sent else ""
