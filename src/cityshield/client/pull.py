"""Reading a TAXII 2.1 collection page by page, as a feed pull does.

httpx rather than taxii2-client here: a pull needs each page's ``X-TAXII-Date-Added-First``
and ``-Last`` headers (the cursor a next pull starts from), which taxii2-client does not
return. Within one pull every page after the first is asked for with ``next`` and the
first page's filters unchanged (TAXII 2.1 §3.4): paging by ``added_after=<Last>`` instead
loses the objects that share the last ``date_added`` of a page with the ones it returned.
Only a server that says ``more`` without a ``next`` is paged by ``added_after``; it must
then make progress, or the read stops with an error rather than looping.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from cityshield import __version__
from cityshield.client.errors import HubClientError
from cityshield.client.taxii import api_root_url, error_text

TAXII_ACCEPT = "application/taxii+json;version=2.1"
JSONObject = dict[str, Any]


@dataclass(frozen=True)
class Page:
    objects: list[JSONObject]
    more: bool
    next: str | None
    first: str | None
    """``X-TAXII-Date-Added-First``: the date_added of the page's first object."""
    last: str | None
    """``X-TAXII-Date-Added-Last``: the date_added of the page's last object."""


class CollectionReader:
    """One collection of a TAXII 2.1 server, open for reading (a context manager)."""

    def __init__(
        self,
        *,
        api_root: str,
        collection: str,
        auth: httpx.Auth | None = None,
        headers: dict[str, str] | None = None,
        timeout_s: float = 60,
        page_size: int | None = None,
    ) -> None:
        self.api_root = api_root_url(api_root)
        self.collection = collection
        self._page_size = page_size
        self._client = httpx.Client(
            auth=auth,
            headers={
                "Accept": TAXII_ACCEPT,
                "User-Agent": f"cityshield/{__version__} (feed pull)",
                **(headers or {}),
            },
            timeout=timeout_s,
            follow_redirects=True,
        )

    def __enter__(self) -> CollectionReader:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._client.close()

    def objects_url(self) -> str:
        """The collection's objects URL; HubClientError if it is unknown or not readable.
        The collection is named by id or alias (cityshield hubs list their aliases)."""
        listing = self._get(f"{self.api_root}collections/", {})
        found = [
            c
            for c in listing.get("collections") or []
            if isinstance(c, dict) and self.collection in (c.get("id"), c.get("alias"))
        ]
        if not found:
            raise HubClientError(f"collection {self.collection!r} not found at {self.api_root}")
        if found[0].get("can_read") is False:
            raise HubClientError(f"collection {self.collection!r} is not readable")
        return f"{self.api_root}collections/{found[0]['id']}/objects/"

    def pages(self, url: str, *, added_after: str | None) -> Iterator[Page]:
        """Every page of objects added after ``added_after`` (all if None), in order."""
        base: dict[str, str] = {}
        if self._page_size is not None:
            base["limit"] = str(self._page_size)
        params = {**base, **({"added_after": added_after} if added_after else {})}
        first_params = dict(params)
        previous_last: str | None = None
        while True:
            page = self._page(url, params)
            yield page
            if not page.more:
                return
            if page.next:
                params = {**first_params, "next": page.next}
            elif page.last and page.last != previous_last:
                params = {**base, "added_after": page.last}
                previous_last = page.last
            else:
                raise HubClientError(
                    f"{url} says there is more but gives neither next nor a later "
                    "X-TAXII-Date-Added-Last to continue from"
                )

    def _page(self, url: str, params: dict[str, str]) -> Page:
        answer, headers = self._get_with_headers(url, params)
        objects = answer.get("objects") or []
        if not isinstance(objects, list) or not all(isinstance(o, dict) for o in objects):
            raise HubClientError(f"{url}: 'objects' is not a list of objects")
        following = answer.get("next")
        return Page(
            objects=objects,
            more=answer.get("more") is True,
            next=following if isinstance(following, str) and following else None,
            first=headers.get("X-TAXII-Date-Added-First"),
            last=headers.get("X-TAXII-Date-Added-Last"),
        )

    def _get(self, url: str, params: dict[str, str]) -> JSONObject:
        return self._get_with_headers(url, params)[0]

    def _get_with_headers(
        self, url: str, params: dict[str, str]
    ) -> tuple[JSONObject, httpx.Headers]:
        try:
            response = self._client.get(url, params=params)
        except httpx.HTTPError as exc:
            raise HubClientError(f"cannot reach {url}: {type(exc).__name__}: {exc}") from exc
        if response.is_error:
            raise HubClientError(
                error_text(
                    status=response.status_code,
                    url=response.url,
                    json=response.json,
                    reason=response.reason_phrase,
                )
            )
        if not response.content:  # some servers answer an empty page with no body at all
            return {}, response.headers
        try:
            answer = orjson.loads(response.content)
        except orjson.JSONDecodeError as exc:
            raise HubClientError(f"{url} did not answer JSON: {exc}") from exc
        if not isinstance(answer, dict):
            raise HubClientError(f"{url} did not answer a TAXII resource (a JSON object)")
        return answer, response.headers
