"""Child-process servers: ``python -m bench.serve hub BACKEND URL`` or ``static FILE``.

Each server gets its own interpreter so it does not share a GIL (or a core) with the
benchmark client. It prints ``{"base_url": ..., "home": ...}`` on one line (``home``: the
hub's data directory, which holds the hub key the benchmark needs to publish the network
view in-process; null for the static server), then runs until its stdin is closed.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

from tests.utils.postgres import free_port
from tests.utils.server import TAXII, ServerThread, start_hub

Scope = dict[str, Any]


def static_app(body: bytes) -> Any:
    """A bare ASGI app answering every request with the same bytes: uvicorn's own floor."""
    headers = [(b"content-type", TAXII.encode()), (b"content-length", str(len(body)).encode())]

    async def app(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                await send({"type": message["type"] + ".complete"})
                if message["type"] == "lifespan.shutdown":
                    return
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def _start(argv: list[str]) -> tuple[ServerThread, str, Path | None]:
    """The running server, its base URL and the temp data directory it leaves behind."""
    if argv[0] == "hub":
        hub = start_hub(argv[1], argv[2])
        assert hub.thread is not None
        return hub.thread, hub.base_url, hub.settings.home
    if argv[0] == "static":
        port = free_port()
        server = ServerThread(static_app(Path(argv[1]).read_bytes()), port)
        server.start()
        return server, f"http://127.0.0.1:{port}", None
    raise SystemExit(f"unknown server kind {argv[0]!r}")


def main(argv: list[str]) -> None:
    server, base_url, home = _start(argv)
    print(json.dumps({"base_url": base_url, "home": home and str(home)}), flush=True)
    sys.stdin.read()
    server.stop()
    if home is not None:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
