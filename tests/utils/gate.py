"""A reverse proxy in front of a member's TAXII server, for faults a real server does not
produce on demand: it counts every object POSTed through it, can hold a POST's answer
after the server has stored the objects (the window in which a crash loses the answer but
not the delivery), can swallow requests without ever answering (a hung server), and can
refuse whole any envelope that holds a given object (a strict server).
When its upstream is down it answers 502, as nginx in front of a stopped server would.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

FORWARDED_HEADERS = ("authorization", "accept", "content-type")


class Gate:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.posted: Counter[tuple[str, str | None]] = Counter()
        self.hold_posts = threading.Event()
        """While set, a POST's answer is held (after the server stored it) until release."""
        self.forwarded = threading.Event()
        """Set when a held POST has reached the server."""
        self.black_hole = threading.Event()
        """While set, requests are never forwarded nor answered, until release."""
        self.refuse: set[str] = set()
        """Object ids whose envelopes are refused whole (400), as a strict server might."""
        self.swallowed = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()
        gate = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                pass

            def do_GET(self) -> None:
                gate._handle(self, "GET")

            def do_POST(self) -> None:
                gate._handle(self, "POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def api_root(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/api1/"

    def __enter__(self) -> Gate:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        if self.black_hole.is_set():
            self.swallowed.set()
            self.release.wait()
            handler.close_connection = True
            return
        if method == "POST" and self.refuse & {o.get("id") for o in json.loads(body)["objects"]}:
            error = {"title": "Bad request", "description": "an object is not acceptable here"}
            self._reply(
                handler, 400, "application/taxii+json;version=2.1", json.dumps(error).encode()
            )
            return
        headers = {k: v for k, v in handler.headers.items() if k.lower() in FORWARDED_HEADERS}
        try:
            answer = httpx.request(
                method, self.upstream + handler.path, headers=headers, content=body, timeout=60
            )
        except httpx.TransportError:
            self._reply(handler, 502, "text/plain", b"upstream unreachable")
            return
        if method == "POST" and answer.is_success:
            with self._lock:
                for obj in json.loads(body).get("objects", []):
                    self.posted[(obj["id"], obj.get("modified"))] += 1
            if self.hold_posts.is_set():
                self.forwarded.set()
                self.release.wait()
        content_type = answer.headers.get("content-type", "application/octet-stream")
        self._reply(handler, answer.status_code, content_type, answer.content)

    @staticmethod
    def _reply(
        handler: BaseHTTPRequestHandler, status: int, content_type: str, data: bytes
    ) -> None:
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", content_type)
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        except OSError:  # the client is gone (killed, or timed out)
            pass
