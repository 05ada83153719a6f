"""How the hub is served: the uvicorn options ``cityshield serve`` runs with (the test
hub runs with the same, so the suite tests what is shipped).

- ``h11`` rather than httptools, for its bound on a request's head: httptools buffers a
  header of any length (13 MB sent to it were all held), while h11 refuses a request line
  plus headers over ``h11_max_incomplete_event_size`` with a 400. A TAXII request's head
  is an Authorization header and a query; 64 KiB leaves room for long ``match[id]`` lists.
  The hub's own work dominates per-request cost, so the pure-Python parser costs no
  measurable throughput (same ingest and page rates within noise on this machine).
- ``timeout_keep_alive``: an idle keep-alive connection is closed after 5 s, as uvicorn
  does by default, stated here so it is a decision rather than an accident.

Bodies are bounded by the app itself (``taxii/body.py``): uvicorn has no body deadline.
"""

from __future__ import annotations

from typing import Any

MAX_REQUEST_HEAD_BYTES = 64 * 1024
KEEP_ALIVE_SECONDS = 5

UVICORN_OPTIONS: dict[str, Any] = {
    "http": "h11",
    "h11_max_incomplete_event_size": MAX_REQUEST_HEAD_BYTES,
    "timeout_keep_alive": KEEP_ALIVE_SECONDS,
}
