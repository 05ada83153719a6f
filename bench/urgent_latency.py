"""The crisis fast path as served: from an urgent submission's 202 to its arrival at every
member's TAXII server and webhook, while ordinary envelopes keep coming.

A :class:`Background` thread posts ordinary envelopes (pre-built and signed before it
starts) at a steady rate with a client of its own. Meanwhile the benchmark's thread posts
urgent submissions one by one: a single TLP:GREEN indicator (every city may see it) for a
fresh IOC, with ``x_cityshield_urgent: true`` added before signing, as ``cityshield
submit --urgent`` does, so the mark is part of the signed content. Before each POST the
report's id is watched at every receiver; after its 202, the receivers are asked every 50
ms when it first arrived (as a network indicator counting it, or a notification naming
it), until it has reached every endpoint or the deadline passed. Its latency is the last
arrival less the 202, both on the machine's monotonic clock; a submission that never
reached some endpoint ranks last. A random pause of 0.5-1.5 times the gap follows, so the
urgent submissions do not keep step with the background envelopes.
"""

from __future__ import annotations

import random
import time
from typing import Any

import httpx
import orjson

from bench.measure import client
from bench.receivers import Fleet
from bench.served_ingest import percentile
from bench.stix import fresh_ioc, report
from bench.threads import InThread
from cityshield.delivery.urgent import HONOURED, mark_urgent
from tests.utils.server import TAXII, TestMember

POLL_S = 0.05
LEAD_S = 3.0
"""The background runs this long before the first urgent submission: steady, not starting."""


def background_envelopes(urgent: int, gap_s: float, interval_s: float) -> int:
    """Enough background envelopes to outlast the urgent submissions if each takes up to
    5 s to arrive everywhere (more than twice the target) plus its longest pause; past it
    the background stops and the result says so."""
    return int(-(-(LEAD_S + urgent * (5.0 + 1.5 * gap_s)) // interval_s)) + 1


class Background(InThread):
    """``with Background(url, auth, bodies, interval_s) as background: ...`` posts one body
    every ``interval_s`` (never catching up in a burst after a slow answer) until the block
    ends or the bodies run out."""

    def __init__(
        self, url: str, auth: tuple[str, str], bodies: list[bytes], interval_s: float
    ) -> None:
        super().__init__("background ingest", join_timeout_s=120)
        self.url, self.auth, self.bodies, self.interval_s = url, auth, bodies, interval_s
        self.envelopes = self.objects = 0
        self.errors: list[str] = []
        self.started = self.last = 0.0

    @property
    def running(self) -> bool:
        return self._thread.is_alive() and not self._stop.is_set()

    def _run(self) -> None:
        with client(self.auth) as http:
            self.started = due = time.monotonic()
            for body in self.bodies:
                if self._stop.wait(max(0.0, due - time.monotonic())):
                    return
                try:
                    answer = http.post(self.url, content=body, headers={"Content-Type": TAXII})
                    answer.raise_for_status()
                    self.objects += orjson.loads(answer.content).get("success_count", 0)
                    self.envelopes += 1
                except httpx.HTTPError as exc:
                    self.errors.append(f"{type(exc).__name__}: {exc}"[:200])
                self.last = time.monotonic()
                due = max(due + self.interval_s, self.last)

    def figures(self) -> dict[str, Any]:
        seconds = self.last - self.started if self.last else 0.0
        return {
            "envelopes": self.envelopes,
            "objects": self.objects,
            "seconds": round(seconds, 1),
            "objects_per_s": round(self.objects / seconds, 1) if seconds else 0.0,
            "interval_s": self.interval_s,
            "ran_out": self.envelopes + len(self.errors) >= len(self.bodies),
            "errors": self.errors[:5],
        }


def urgent_report(member: TestMember) -> dict[str, Any]:
    """One TLP:GREEN indicator for a fresh IOC, marked urgent before it is signed."""
    return member.sign(mark_urgent(report(member, fresh_ioc(), tlp="green")))[0]


def arrival_latencies(
    arrivals: dict[str, dict[str, Any]], report_id: str, answered_at: float, endpoints: list[str]
) -> dict[str, float | None]:
    """Per endpoint: seconds from the 202 until ``report_id`` first arrived there (None:
    not yet). Never below 0: an arrival before the client read its answer is at once."""
    found: dict[str, float | None] = {}
    for url in endpoints:
        at = arrivals.get(url, {}).get("first", {}).get(report_id)
        found[url] = None if at is None else max(0.0, at - answered_at)
    return found


def slowest(latencies: dict[str, float | None]) -> float | None:
    """The last arrival, or None if some endpoint never got it."""
    values = list(latencies.values())
    if not values or any(v is None for v in values):
        return None
    return max(v for v in values if v is not None)


def _wait_arrived(
    fleet: Fleet, report_id: str, answered_at: float, deadline_s: float
) -> dict[str, float | None]:
    endpoints = fleet.taxii + fleet.hooks
    end = time.monotonic() + deadline_s
    while True:
        latencies = arrival_latencies(fleet.arrivals(), report_id, answered_at, endpoints)
        if slowest(latencies) is not None or time.monotonic() > end:
            return latencies
        time.sleep(POLL_S)


def _submit(http: httpx.Client, url: str, obj: dict[str, Any]) -> tuple[float, bool]:
    """POST one urgent report; when its 202 came, and whether the mark was honoured."""
    answer = http.post(
        url, content=orjson.dumps({"objects": [obj]}), headers={"Content-Type": TAXII}
    )
    answered_at = time.monotonic()
    answer.raise_for_status()
    successes = orjson.loads(answer.content).get("successes") or [{}]
    return answered_at, successes[0].get("message") == HONOURED


def _one(
    http: httpx.Client, url: str, poster: TestMember, fleet: Fleet, deadline_s: float
) -> dict[str, Any]:
    obj = urgent_report(poster)
    fleet.watch([obj["id"]])
    error: str | None = None
    try:
        answered_at, honoured = _submit(http, url, obj)
    except httpx.HTTPError as exc:  # counted as never arrived, and said why
        latencies: dict[str, float | None] = {u: None for u in fleet.taxii + fleet.hooks}
        honoured, error = False, f"{type(exc).__name__}: {exc}"[:200]
    else:
        latencies = _wait_arrived(fleet, obj["id"], answered_at, deadline_s)
    taxii = {u: latencies[u] for u in fleet.taxii}
    hooks = {u: latencies[u] for u in fleet.hooks}
    return {
        "id": obj["id"],
        "error": error,
        "honoured": honoured,
        "all_s": _rounded(slowest(latencies)),
        "taxii_s": _rounded(slowest(taxii)),
        "webhook_s": _rounded(slowest(hooks)),
        "first_s": _rounded(min((v for v in latencies.values() if v is not None), default=None)),
        "missing": sorted(u for u, v in latencies.items() if v is None),
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def urgent_latency(
    url: str,
    poster: TestMember,
    fleet: Fleet,
    *,
    count: int,
    gap_s: float,
    deadline_s: float,
    background: list[bytes],
    interval_s: float,
    rng: random.Random,
) -> dict[str, Any]:
    """``count`` urgent submissions to ``url`` (``submissions``) under steady background
    ingest; their latencies and p50 / p95 / max, for every endpoint and per kind."""
    submissions: list[dict[str, Any]] = []
    auth = (poster.name, poster.token)
    with client(auth) as http, Background(url, auth, background, interval_s) as steady:
        time.sleep(LEAD_S)
        for _ in range(count):
            done = _one(http, url, poster, fleet, deadline_s)
            done["background_running"] = steady.running
            submissions.append(done)
            time.sleep(rng.uniform(0.5, 1.5) * gap_s)
    summary: dict[str, Any] = {"submissions": submissions, "background": steady.figures()}
    for key in ("all_s", "taxii_s", "webhook_s"):
        values = [s[key] for s in submissions]
        name = key.removesuffix("_s")
        summary[f"{name}_p50_s"] = percentile(values, 0.50)
        summary[f"{name}_p95_s"] = percentile(values, 0.95)
        summary[f"{name}_max_s"] = percentile(values, 1.0)
    summary["count"] = len(submissions)
    summary["honoured"] = sum(1 for s in submissions if s["honoured"])
    summary["not_arrived"] = sum(1 for s in submissions if s["all_s"] is None)
    summary["without_background"] = sum(1 for s in submissions if not s["background_running"])
    return summary
