"""Pulling a hub's export into a file, for cron jobs (``cityshield pull``).

A firewall reads its external list from a web server or a file share, often while the pull
is writing it. The file is therefore replaced atomically (written beside it, flushed to disk,
renamed over it): a reader sees the old list or the new one, never half of one. A 304 (the
list did not change since the ETag kept in the state file) leaves the file alone, and so does
any error: a hub that cannot be reached must not empty a blocklist.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

from cityshield.client.errors import HubClientError

EXPORT_PATH = "api/v1/export/"


@dataclass(frozen=True)
class PullState:
    """What the last pull learnt: the list's ETag and the token for the next delta."""

    etag: str | None = None
    next_since: str | None = None

    @classmethod
    def read(cls, path: Path | None) -> PullState:
        if path is None or not path.exists():
            return cls()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise HubClientError(f"cannot read the state file {path}: {exc}") from exc
        if not isinstance(data, dict):
            raise HubClientError(f"the state file {path} is not a JSON object")
        etag, since = data.get("etag"), data.get("next_since")
        return cls(
            etag if isinstance(etag, str) else None, since if isinstance(since, str) else None
        )

    def write(self, path: Path) -> None:
        write_atomically(path, (json.dumps(asdict(self), indent=2) + "\n").encode())


@dataclass(frozen=True)
class PullResult:
    """What the hub answered; ``changed`` False for a 304 (nothing written)."""

    changed: bool
    state: PullState
    entries: int | None = None
    total: int | None = None
    truncated: bool = False

    def as_json(self, out: Path) -> dict[str, Any]:
        return {
            "status": "updated" if self.changed else "not-modified",
            "out": str(out),
            "entries": self.entries,
            "total": self.total,
            "truncated": self.truncated,
            "etag": self.state.etag,
            "next_since": self.state.next_since,
        }


def export_url(hub: str, fmt: str) -> str:
    """``https://HUB[/prefix]/`` -> the export endpoint of ``fmt`` under it."""
    return hub.rstrip("/") + "/" + EXPORT_PATH + fmt


def write_atomically(path: Path, content: bytes) -> None:
    """Replace ``path`` with ``content`` so a reader sees the old or the new file only; the
    new file keeps the old one's permissions (else 0644: a web server serves it)."""
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = 0o644
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a crash
    finally:
        os.close(directory)


def _failure(response: httpx.Response) -> str:
    try:
        body = response.json()
        detail = f": {body['title']}: {body['description']}"
    except (ValueError, KeyError, TypeError):
        detail = ""
    return f"HTTP {response.status_code} from {response.request.url}{detail}"


def pull_export(
    *,
    url: str,
    params: dict[str, str],
    auth: httpx.Auth,
    out: Path,
    state: PullState,
    since: str | None = None,
    timeout: float = 60,
) -> PullResult:
    """GET the export at ``url`` and write it to ``out``; with ``since`` a delta, else the
    whole list, conditional on ``state.etag``."""
    headers = {"If-None-Match": state.etag} if state.etag and since is None else {}
    query = {**params, **({"since": since} if since is not None else {})}
    try:
        response = httpx.get(url, params=query, headers=headers, auth=auth, timeout=timeout)
    except httpx.HTTPError as exc:
        raise HubClientError(f"cannot reach {url}: {exc}") from exc
    if response.status_code == 304:
        return PullResult(False, state)
    if response.status_code != 200:
        raise HubClientError(_failure(response))
    try:
        write_atomically(out, response.content)
    except OSError as exc:
        raise HubClientError(f"cannot write {out}: {exc}") from exc
    header = response.headers.get
    return PullResult(
        True,
        PullState(header("etag"), header("x-cityshield-next-since")),
        entries=int(header("x-cityshield-count", "0")),
        total=int(header("x-cityshield-total", "0")),
        truncated=header("x-cityshield-truncated") == "true",
    )
