"""A benchmark helper that works in a thread of its own for as long as a ``with`` block.

Background ingest (``bench.urgent_latency.Background``) and the network watch
(``bench.lag.NetworkWatch``) both start a daemon thread on entry, and on exit ask it to
stop and wait for it, however the block ends.
"""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Self


class InThread:
    """Subclasses implement :meth:`_run`, which returns once ``self._stop`` is set."""

    def __init__(self, name: str, join_timeout_s: float) -> None:
        self._stop = threading.Event()
        self._join_timeout_s = join_timeout_s
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _run(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=self._join_timeout_s)
