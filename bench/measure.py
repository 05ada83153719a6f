"""Client-side measurements over HTTP: envelope ingest and paged reads following ``next``."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx
import orjson

from tests.utils.server import TAXII

PAGE = 1000


def client(auth: tuple[str, str]) -> httpx.Client:
    """One keep-alive client, as a TAXII poller would use."""
    return httpx.Client(auth=auth, headers={"Accept": TAXII}, timeout=120)


@dataclass
class Ingest:
    """Envelopes POSTed one after another, each timed (``envelope_s``)."""

    objects: int
    seconds: float
    failures: int
    envelope_s: list[float] = field(default_factory=list)
    error: str | None = None

    @property
    def rate(self) -> float:
        return self.objects / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "objects_per_s": round(self.rate)}


@dataclass
class Read:
    """One paged read; ``first_page_s`` is None when not even one page came back."""

    objects: int
    pages: int
    seconds: float
    first_page_s: float | None
    timed_out: bool = False
    slowest_page_s: float = 0.0
    error: str | None = None

    @property
    def rate(self) -> float:
        """Objects/s; for a read cut short by its deadline, over what came back in time."""
        return self.objects / self.seconds if self.seconds else 0.0

    @property
    def page_ms(self) -> float:
        return 1000 * self.seconds / self.pages if self.pages else 0.0

    def as_dict(self) -> dict[str, Any]:
        extra = {"objects_per_s": round(self.rate), "ms_per_page": round(self.page_ms, 2)}
        return {**asdict(self), **extra}


def quiet_client_gc() -> None:
    """Move the client's own heap out of the collector's way before timing.

    A full collection of this process (~150k objects, ~35 ms) would otherwise land inside
    some timed requests and be charged to the server.
    """
    gc.collect()
    gc.freeze()


def ingest(
    http: httpx.Client,
    url: str,
    bodies: list[bytes],
    *,
    answered: Callable[[int, float], None] | None = None,
) -> Ingest:
    """POST pre-serialised envelopes one after another, each timed; counts accepted objects.

    ``answered(i, t)`` is told when envelope ``i``'s answer arrived (``perf_counter``), for
    the network lag. An HTTP error ends the run with what was measured so far (a peer that
    fails is reported, not fatal).
    """
    quiet_client_gc()
    done = Ingest(0, 0.0, 0)
    for i, body in enumerate(bodies):
        start = time.perf_counter()
        try:
            response = http.post(url, content=body, headers={"Content-Type": TAXII})
            response.raise_for_status()
        except httpx.HTTPError as exc:
            done.error = _describe(exc)
            break
        now = time.perf_counter()
        if answered is not None:
            answered(i, now)
        status = orjson.loads(response.content)
        done.seconds += now - start
        done.envelope_s.append(round(now - start, 5))
        done.objects += status.get("success_count", 0)
        done.failures += status.get("failure_count", 0)
    return done


def _describe(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.HTTPStatusError):
        return f"HTTP {exc.response.status_code}"
    return type(exc).__name__


def paged_read(
    http: httpx.Client,
    url: str,
    *,
    params: dict[str, str] | None = None,
    max_pages: int = 10**7,
    deadline_s: float = 600.0,
) -> Read:
    """Read pages of PAGE objects following ``next`` (filters repeated, as TAXII asks).

    Each page is parsed, as a real client must. Stops at ``max_pages``, at the last page,
    or at the deadline (then ``timed_out``; a stuck server is abandoned, not awaited).
    """
    quiet_client_gc()
    objects = pages = 0
    first: float | None = None
    slowest = 0.0
    token: str | None = None
    start = time.perf_counter()
    while pages < max_pages:
        began = time.perf_counter()
        remaining = deadline_s - (began - start)
        query = {**(params or {}), "limit": str(PAGE), **({"next": token} if token else {})}
        try:
            if remaining <= 0:
                raise httpx.ReadTimeout("deadline")
            response = http.get(url, params=query, timeout=remaining)
            response.raise_for_status()
        except httpx.TimeoutException:
            return Read(objects, pages, time.perf_counter() - start, first, True, slowest)
        except httpx.HTTPError as exc:
            elapsed = time.perf_counter() - start
            return Read(objects, pages, elapsed, first, False, slowest, _describe(exc))
        envelope = orjson.loads(response.content)
        now = time.perf_counter()
        slowest = max(slowest, now - began)
        pages += 1
        objects += len(envelope.get("objects", []))
        first = first if first is not None else now - start
        token = envelope.get("next")
        if not envelope.get("more") or not token:
            break
    return Read(objects, pages, time.perf_counter() - start, first, False, slowest)


def median_read(runs: list[Read]) -> Read:
    return sorted(runs, key=lambda run: run.seconds)[len(runs) // 2]


def spread(values: list[float]) -> dict[str, float | None]:
    """Median, lowest and highest of per-run figures (the printed ``median (min-max)``)."""
    if not values:
        return {"median": None, "min": None, "max": None}
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


class Phases:
    """Wall time of a section's successive phases (set-up included), for the JSON: where a
    long run spent its time."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def mark(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = round(now - self._last, 1)
        self._last = now
