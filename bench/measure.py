"""Client-side measurements over HTTP: envelope ingest and paged reads following ``next``."""

from __future__ import annotations

import gc
import time
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
    """Envelopes after the first (steady state); the first one is timed on its own."""

    objects: int
    seconds: float
    failures: int
    first_envelope_s: float
    envelope_s: list[float] = field(default_factory=list)  # each timed POST, if recorded

    @property
    def rate(self) -> float:
        return self.objects / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        figures = {**asdict(self), "objects_per_s": round(self.rate)}
        if not self.envelope_s:
            del figures["envelope_s"]
        return figures


@dataclass
class Read:
    """One paged read; ``first_page_s`` is None when not even one page came back."""

    objects: int
    pages: int
    seconds: float
    first_page_s: float | None
    timed_out: bool = False

    @property
    def rate(self) -> float:
        return self.objects / self.seconds if self.seconds and not self.timed_out else 0.0

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


def ingest(http: httpx.Client, url: str, bodies: list[bytes]) -> Ingest:
    """POST pre-serialised envelopes one after another; counts accepted objects.

    The first envelope after a server starts pays one-off costs (worker pools, caches),
    so it is reported separately and the rate is over the rest.
    """
    quiet_client_gc()
    accepted = failures = 0
    first_s = 0.0
    start = time.perf_counter()
    for i, body in enumerate(bodies):
        response = http.post(url, content=body, headers={"Content-Type": TAXII})
        response.raise_for_status()
        status = orjson.loads(response.content)
        failures += status.get("failure_count", 0)
        if i == 0 and len(bodies) > 1:
            first_s = time.perf_counter() - start
            start = time.perf_counter()
        else:
            accepted += status["success_count"]
    return Ingest(accepted, time.perf_counter() - start, failures, first_s)


def ingest_interleaved(
    http: httpx.Client, targets: dict[str, tuple[str, list[bytes]]]
) -> dict[str, Ingest]:
    """POST envelopes round-robin to several collections (one to each in turn), timing each
    POST; per-collection totals. Alternating means a change in machine load during the run
    weighs on every collection alike, so their rates can be compared."""
    quiet_client_gc()
    totals = {name: Ingest(0, 0.0, 0, 0.0) for name in targets}
    rounds = max(len(bodies) for _, bodies in targets.values())
    for i in range(rounds):
        for name, (url, bodies) in targets.items():
            if i >= len(bodies):
                continue
            start = time.perf_counter()
            response = http.post(url, content=bodies[i], headers={"Content-Type": TAXII})
            response.raise_for_status()
            status = orjson.loads(response.content)
            took = time.perf_counter() - start
            totals[name].seconds += took
            totals[name].envelope_s.append(round(took, 5))
            totals[name].objects += status["success_count"]
            totals[name].failures += status.get("failure_count", 0)
    return totals


def paged_read(
    http: httpx.Client,
    url: str,
    *,
    params: dict[str, str] | None = None,
    max_pages: int = 10**6,
    deadline_s: float = 600.0,
) -> Read:
    """Read pages of PAGE objects following ``next`` (filters repeated, as TAXII asks).

    Each page is parsed, as a real client must. Stops at ``max_pages``, at the last page,
    or at the deadline (then ``timed_out``; a stuck server is abandoned, not awaited).
    """
    quiet_client_gc()
    objects = pages = 0
    first: float | None = None
    token: str | None = None
    start = time.perf_counter()
    while pages < max_pages:
        remaining = deadline_s - (time.perf_counter() - start)
        query = {**(params or {}), "limit": str(PAGE), **({"next": token} if token else {})}
        try:
            if remaining <= 0:
                raise httpx.ReadTimeout("deadline")
            response = http.get(url, params=query, timeout=remaining)
        except httpx.TimeoutException:
            return Read(objects, pages, time.perf_counter() - start, first, timed_out=True)
        response.raise_for_status()
        envelope = orjson.loads(response.content)
        pages += 1
        objects += len(envelope.get("objects", []))
        first = first if first is not None else time.perf_counter() - start
        token = envelope.get("next")
        if not envelope.get("more") or not token:
            break
    return Read(objects, pages, time.perf_counter() - start, first)
