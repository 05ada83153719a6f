"""``python -m bench.serve static FILE``: a bare ASGI app under uvicorn answering every
request with the bytes of FILE, the floor for serving a page (``bench/ceilings.py``).

It gets its own interpreter so it does not share a GIL (or a core) with the benchmark
client. It prints ``{"base_url": ...}`` on one line, then runs until its stdin is closed.
(The hub itself is run as users run it: ``bench/served.py``.)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from tests.utils.postgres import free_port
from tests.utils.server import TAXII, ServerThread

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


def main(argv: list[str]) -> None:
    if argv[:1] != ["static"] or len(argv) != 2:
        raise SystemExit("usage: python -m bench.serve static FILE")
    port = free_port()
    server = ServerThread(static_app(Path(argv[1]).read_bytes()), port)
    server.start()
    print(json.dumps({"base_url": f"http://127.0.0.1:{port}"}), flush=True)
    sys.stdin.read()
    server.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
