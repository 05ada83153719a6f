"""Downloading a list feed: one conditional GET, bounded in size and time.

``If-None-Match`` (the last ``ETag``) and ``If-Modified-Since`` (the last
``Last-Modified``) let the feed answer 304, which means no work at all: nothing is
downloaded, parsed or compared. Credentials come from the environment as the definition's
``auth`` names them, read at each pull (a rotated key needs no restart) and never stored.
The whole body must arrive within the feed's timeout: a feed that trickles bytes holds one
worker thread for that long, never more. No database connection is open meanwhile.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from cityshield import __version__
from cityshield.feeds.definition import Auth
from cityshield.feeds.errors import FeedPullError

USER_AGENT = f"cityshield/{__version__} (feed pull)"


@dataclass(frozen=True)
class Fetched:
    """A 304 (``not_modified``) or a body with the validators to send next time."""

    not_modified: bool
    body: bytes = b""
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class Credentials:
    auth: httpx.Auth | None
    headers: dict[str, str]

    def __repr__(self) -> str:
        return "Credentials(***)"


def credentials(auth: Auth | None, environ: Mapping[str, str] | None = None) -> Credentials:
    """What to authenticate with; FeedPullError naming a variable that is not set."""
    if auth is None:
        return Credentials(None, {})
    env = os.environ if environ is None else environ

    def read(name: str | None) -> str:
        value = env.get(name or "")
        if not value:
            raise FeedPullError(f"auth: the environment variable {name} is not set")
        return value

    if auth.type == "basic":
        return Credentials(httpx.BasicAuth(read(auth.user_env), read(auth.password_env)), {})
    if auth.type == "bearer":
        return Credentials(None, {"Authorization": f"Bearer {read(auth.token_env)}"})
    return Credentials(None, {auth.header or "": read(auth.token_env)})


def fetch_list(
    url: str,
    *,
    etag: str | None,
    last_modified: str | None,
    secret: Credentials,
    timeout_s: float,
    max_bytes: int,
) -> Fetched:
    """GET ``url`` unless it is unchanged since ``etag``/``last_modified``."""
    headers = {"User-Agent": USER_AGENT, **secret.headers}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    deadline = time.monotonic() + timeout_s
    try:
        with (
            httpx.Client(timeout=timeout_s, follow_redirects=True, auth=secret.auth) as client,
            client.stream("GET", url, headers=headers) as response,
        ):
            if response.status_code == 304:
                return Fetched(True, etag=etag, last_modified=last_modified)
            if response.status_code != 200:
                raise FeedPullError(
                    f"HTTP {response.status_code} {response.reason_phrase} from {url}"
                )
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > max_bytes:
                    raise FeedPullError(f"{url} sent more than {max_bytes} bytes")
                if time.monotonic() > deadline:
                    raise FeedPullError(f"{url} did not send its body within {timeout_s:g} s")
            return Fetched(
                False,
                bytes(body),
                response.headers.get("ETag"),
                response.headers.get("Last-Modified"),
            )
    except httpx.HTTPError as exc:
        raise FeedPullError(f"cannot fetch {url}: {type(exc).__name__}: {exc}") from exc
