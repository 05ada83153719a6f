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

Background jobs run in a worker process beside the API (:func:`worker_process`), never in
an API process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

WORKER_STOP_SECONDS = 30
MAX_REQUEST_HEAD_BYTES = 64 * 1024
KEEP_ALIVE_SECONDS = 5

UVICORN_OPTIONS: dict[str, Any] = {
    "http": "h11",
    "h11_max_incomplete_event_size": MAX_REQUEST_HEAD_BYTES,
    "timeout_keep_alive": KEEP_ALIVE_SECONDS,
}


@contextmanager
def worker_process() -> Iterator[subprocess.Popen[bytes]]:
    """``cityshield worker`` as a child process, for as long as the block runs.

    A separate process, not a thread, so background jobs never share the API's GIL. It is
    terminated (then killed, if it does not stop within ``WORKER_STOP_SECONDS``) and
    reaped when the block ends, however it ends; ``--parent-pid`` makes it stop by itself
    if serve dies without running this (SIGKILL). The environment is inherited, so the
    worker reads the same settings.
    """
    child = subprocess.Popen(
        [sys.executable, "-m", "cityshield.cli.main", "worker", "--parent-pid", str(os.getpid())]
    )
    try:
        yield child
    finally:
        if child.poll() is None:
            child.terminate()
        try:
            child.wait(timeout=WORKER_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def exit_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit, so ``finally`` blocks run.

    uvicorn handles SIGTERM while it serves and, once shut down, raises it again with the
    handler it found; with the default handler the process would die on the spot and
    leave the worker child behind (until it noticed by itself).
    """

    def _exit(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, _exit)
