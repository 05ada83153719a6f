"""TAXII response bodies built from stored bytes.

Object bodies are stored serialised at write time; a page is the concatenation of those
strings inside the envelope, with no parse or re-serialisation per request.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Response

from cityshield.store.keyset import Page
from cityshield.store.models import Status
from cityshield.taxii.media import TAXII_MEDIA_TYPE
from cityshield.timefmt import format_date_added, format_timestamp


def taxii_json(content: Any, status_code: int = 200) -> Response:
    return Response(orjson.dumps(content), status_code=status_code, media_type=TAXII_MEDIA_TYPE)


def _page_headers(page: Page) -> dict[str, str]:
    """X-TAXII-Date-Added-First/Last describe the returned page; absent when it is empty."""
    if not page.rows:
        return {}
    return {
        "X-TAXII-Date-Added-First": format_date_added(page.first_added_us or 0),
        "X-TAXII-Date-Added-Last": format_date_added(page.last_added_us or 0),
    }


def _list_head(page: Page) -> str:
    head = '{"more":' + ("true" if page.more else "false")
    if page.next:
        head += ',"next":' + orjson.dumps(page.next).decode()
    return head


def envelope_response(page: Page) -> Response:
    """An envelope of the stored object bodies (rows are (body, date_added_us)).

    Built by one ``join``: each ``+`` on a megabyte string allocates a fresh block the
    kernel must fault in, and three of them cost 25x the join (1.3 ms a 1,000-object page).
    """
    head = _list_head(page)
    if not page.rows:
        return Response(head + "}", media_type=TAXII_MEDIA_TYPE)
    parts = [row[0] for row in page.rows]
    parts[0] = head + ',"objects":[' + parts[0]
    parts[-1] += "]}"
    return Response(",".join(parts), media_type=TAXII_MEDIA_TYPE, headers=_page_headers(page))


def manifest_response(page: Page, media_type: str) -> Response:
    """Rows are (object_id, version_us, date_added_us)."""
    body: dict[str, Any] = {"more": page.more}
    if page.next:
        body["next"] = page.next
    if page.rows:
        body["objects"] = [
            {
                "id": object_id,
                "date_added": format_date_added(added_us),
                "version": format_timestamp(version_us),
                "media_type": media_type,
            }
            for object_id, version_us, added_us in page.rows
        ]
    return Response(orjson.dumps(body), media_type=TAXII_MEDIA_TYPE, headers=_page_headers(page))


def versions_response(page: Page) -> Response:
    """Rows are (version_us, date_added_us)."""
    body: dict[str, Any] = {"more": page.more}
    if page.next:
        body["next"] = page.next
    if page.rows:
        body["versions"] = [format_timestamp(version_us) for version_us, _ in page.rows]
    return Response(orjson.dumps(body), media_type=TAXII_MEDIA_TYPE, headers=_page_headers(page))


def status_body(status: Status) -> dict[str, Any]:
    details = orjson.loads(status.details)
    return {
        "id": status.id,
        "status": status.status,
        "request_timestamp": format_date_added(status.request_us),
        "total_count": status.total_count,
        "success_count": status.success_count,
        "successes": details.get("successes", []),
        "failure_count": status.failure_count,
        "failures": details.get("failures", []),
        "pending_count": status.pending_count,
        "pendings": details.get("pendings", []),
    }
