"""A feed's web server for tests: a real HTTP server on 127.0.0.1 (a thread) serving files
as abuse.ch and Spamhaus serve their lists -- with an ``ETag`` and a ``Last-Modified``,
answering 304 to a request whose ``If-None-Match`` (or ``If-Modified-Since``) matches --
and keeping every request's headers, so tests see what the puller sent. A path may demand
a header (an API key), and ``delay`` makes every answer slow."""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "feeds"


@dataclass
class Served:
    body: bytes
    modified: float = field(default_factory=time.time)
    required: tuple[str, str] | None = None
    """(header, value) the request must carry, else 401."""

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'

    @property
    def last_modified(self) -> str:
        return formatdate(self.modified, usegmt=True)


class FeedServer:
    def __init__(self) -> None:
        self.files: dict[str, Served] = {}
        self.requests: list[tuple[str, dict[str, str], int]] = []
        self.delay = 0.0
        self.held: set[str] = set()
        """Paths whose answers wait until ``release`` is set (a feed that hangs)."""
        self.release = threading.Event()
        self.waiting = threading.Event()
        """Set once a request for a held path is waiting."""
        self._lock = threading.Lock()
        feed = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                pass

            def do_GET(self) -> None:
                if self.path in feed.held:
                    feed.waiting.set()
                    feed.release.wait(timeout=120)
                status, headers, body = feed._answer(
                    self.path, {k.lower(): v for k, v in self.headers.items()}
                )
                if feed.delay:
                    time.sleep(feed.delay)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/{path.lstrip('/')}"

    def serve(self, path: str, body: bytes, *, required: tuple[str, str] | None = None) -> str:
        """Serve ``body`` at ``path`` from now on (a new version: new ETag, later date)."""
        with self._lock:
            before = self.files.get("/" + path.lstrip("/"))
            modified = time.time() if before is None else max(time.time(), before.modified + 1)
            self.files["/" + path.lstrip("/")] = Served(body, modified, required)
        return self.url(path)

    def serve_sample(self, name: str, **options: Any) -> str:
        return self.serve(name, (SAMPLES / name).read_bytes(), **options)

    def statuses(self, path: str) -> list[int]:
        return [status for p, _, status in self.requests if p == "/" + path.lstrip("/")]

    def _answer(self, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            served = self.files.get(path)
            if served is None:
                status, out, body = 404, {}, b"not found"
            elif served.required and headers.get(served.required[0].lower()) != served.required[1]:
                status, out, body = 401, {}, b"unauthorized"
            else:
                out = {"ETag": served.etag, "Last-Modified": served.last_modified}
                unchanged = headers.get("if-none-match") == served.etag or (
                    "if-none-match" not in headers
                    and headers.get("if-modified-since") == served.last_modified
                )
                status, body = (304, b"") if unchanged else (200, served.body)
                if status == 200:
                    out["Content-Type"] = "text/plain; charset=utf-8"
            self.requests.append((path, headers, status))
        return status, out, body

    def __enter__(self) -> FeedServer:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
