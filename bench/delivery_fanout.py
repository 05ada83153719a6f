"""Section 8: push fan-out and the urgent fast path as served (issue 12's benchmark).

Two ``cityshield serve`` hubs with the same members (``targets`` cities and a poster), the
same sharing defaults and ``CITYSHIELD_URGENT_PER_HOUR`` set high in serve's environment
(the urgent submissions below must all be honoured, not cut by the hourly limit). On one
of them, *with*, each city has a push target (``--view network``) at its own TAXII
receiver and a webhook at its own webhook receiver (``bench.receivers``: TAXII roots in
processes of five, the webhooks in one more process); the other, *without*, has none.

1. **Ingest with and without push targets.** After one untimed envelope into each, ``runs``
   times, alternating which hub goes first: ``envelopes`` envelopes of 500 reports into
   one hub's ``submissions``, then a wait until its worker has published them (and, on
   *with*, delivered every city's share to its receiver: every target's cursor at its
   member's newest view), then the same envelopes into the other. "The same" is as close
   as two hubs allow: the same IOCs, TLP levels and RED recipients in the same order, each
   signed by its own hub's poster. One client thread posts (one keep-alive connection per
   hub, as section 1). The figure: *with*'s objects/s over *without*'s.
2. **Urgent latency under load** (*with* only, *without* stopped first): steady background
   ingest and ``urgent`` urgent submissions one by one (``bench.urgent_latency``).
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench.fanout_hubs import (
    Members,
    add_members,
    register_endpoints,
    target_errors,
    twin_envelopes,
    wait_caught_up,
)
from bench.hubs import objects_url, wait_published
from bench.load import tree_cpu
from bench.measure import Ingest, Phases, client, ingest
from bench.network import ENVELOPE, SUBMISSIONS
from bench.receivers import Fleet, fleet
from bench.served import Served, initialised_hub, serving
from bench.served_ingest import ingest_totals
from bench.urgent_latency import background_envelopes, urgent_latency
from tests.utils.server import Hub

URGENT_PER_HOUR = 1_000_000
SERVE_ENVIRONMENT = {"CITYSHIELD_URGENT_PER_HOUR": str(URGENT_PER_HOUR)}
"""What serve reads besides its defaults: an hourly urgent limit no run comes near."""
WITHOUT, WITH = 0, 1


class _Side:
    """One served hub of the comparison, its members and its posting client."""

    def __init__(self, stack: ExitStack, served: Served, members: Members) -> None:
        self.hub: Hub = served.hub
        self.pid = served.pid
        self.members = members
        self.http = stack.enter_context(client((members.poster.name, members.poster.token)))
        self.url = objects_url(self.hub, SUBMISSIONS)


def _settle(side: _Side, delivers: bool, timeout_s: float) -> float | None:
    """Until the side's worker is idle: published, and on *with* delivered too."""
    if delivers:
        return wait_caught_up(side.hub, timeout_s)
    return wait_published(side.hub, timeout_s)


def _arrived(endpoints: Fleet) -> int:
    """Objects the TAXII receivers have taken so far, all cities together."""
    counts = endpoints.arrivals()
    return sum(counts[url]["items"] for url in endpoints.taxii)


def _compare(
    sides: list[_Side],
    endpoints: Fleet,
    *,
    runs: int,
    envelopes: int,
    rng: random.Random,
    timeout_s: float,
) -> tuple[list[list[Ingest]], list[dict[str, Any]]]:
    """Alternating runs of the same envelopes into each side. Per run and side: the CPU
    seconds each hub's process tree used from the first POST until the side was settled
    (the other hub's is what its idle worker cost meanwhile), and on *with* how long its
    delivery took after the last 202 and how many objects the receivers took."""
    for side, warm in zip(sides, twin_envelopes([s.members for s in sides], 1, rng), strict=True):
        ingest(side.http, side.url, warm)
        _settle(side, side is sides[WITH], timeout_s)
    timed: list[list[Ingest]] = [[], []]
    legs: list[dict[str, Any]] = []
    for run in range(runs):
        bodies = twin_envelopes([s.members for s in sides], envelopes, rng)
        for index in (WITHOUT, WITH) if run % 2 == 0 else (WITH, WITHOUT):
            arrived = _arrived(endpoints)
            cpu = [tree_cpu(side.pid) for side in sides]
            timed[index].append(ingest(sides[index].http, sides[index].url, bodies[index]))
            settled = _settle(sides[index], index == WITH, timeout_s)
            used = [tree_cpu(side.pid) - before for side, before in zip(sides, cpu, strict=True)]
            legs.append(
                {
                    "run": run + 1,
                    "into": "with" if index == WITH else "without",
                    "settled_after_last_s": None if settled is None else round(settled, 3),
                    "objects_arrived": _arrived(endpoints) - arrived,
                    "cpu_s": {"without": round(used[WITHOUT], 2), "with": round(used[WITH], 2)},
                }
            )
    return timed, legs


def _ratio(with_: dict[str, Any], without: dict[str, Any]) -> float | None:
    rate: float = with_["objects_per_s"]
    base: float = without["objects_per_s"]
    return round(rate / base, 4) if rate and base else None


def served_delivery(
    backend: str,
    new_db: Callable[[], str],
    workdir: Path,
    *,
    targets: int,
    runs: int,
    envelopes: int,
    urgent: int,
    urgent_gap_s: float,
    urgent_deadline_s: float,
    background_size: int,
    background_interval_s: float,
    webhooks_urgent_only: bool,
    publish_timeout_s: float,
    seed: int = 1201,
) -> dict[str, Any]:
    rng = random.Random(seed)
    phases = Phases()
    token = secrets.token_urlsafe(16)
    with ExitStack() as stack:
        endpoints = stack.enter_context(fleet(targets, token=token))
        phases.mark("receivers_start")
        without_stack = stack.enter_context(ExitStack())  # closed before the urgent part
        sides = []
        for index, owner in ((WITHOUT, without_stack), (WITH, stack)):
            hub = owner.enter_context(initialised_hub(backend, new_db(), workdir=workdir))
            members = add_members(hub, targets)
            if index == WITH:
                register_endpoints(
                    hub, members, endpoints, token=token, urgent_only=webhooks_urgent_only
                )
            served = owner.enter_context(serving(hub, environment=SERVE_ENVIRONMENT))
            sides.append(_Side(owner, served, members))
        phases.mark("serve_start")
        timed, legs = _compare(
            sides, endpoints, runs=runs, envelopes=envelopes, rng=rng, timeout_s=publish_timeout_s
        )
        phases.mark("ingest_runs")
        without_stack.close()
        phases.mark("without_stopped")
        with_ = sides[WITH]
        count = background_envelopes(urgent, urgent_gap_s, background_interval_s)
        background = twin_envelopes([with_.members], count, rng, background_size)[0]
        phases.mark("background_signed")
        fast = urgent_latency(
            with_.url,
            with_.members.poster,
            endpoints,
            count=urgent,
            gap_s=urgent_gap_s,
            deadline_s=urgent_deadline_s,
            background=background,
            interval_s=background_interval_s,
            rng=rng,
        )
        phases.mark("urgent")
        errors = target_errors(with_.hub)
        arrived = endpoints.arrivals()
    ingest_figures = {"without": ingest_totals(timed[WITHOUT]), "with": ingest_totals(timed[WITH])}
    return {
        "targets": targets,
        "webhooks": targets,
        "webhooks_urgent_only": webhooks_urgent_only,
        "receiver_processes": len(endpoints.processes),
        "serve_environment": SERVE_ENVIRONMENT,
        "runs": runs,
        "envelopes_per_run": envelopes,
        "envelope_objects": ENVELOPE,
        "ingest": ingest_figures,
        "ratio": _ratio(ingest_figures["with"], ingest_figures["without"]),
        "legs": legs,
        "urgent": {**fast, "gap_s": urgent_gap_s, "deadline_s": urgent_deadline_s},
        "background_size": background_size,
        "target_errors": errors,
        "receivers": {
            url: {k: v for k, v in figures.items() if k != "first"}
            for url, figures in arrived.items()
        },
        "phases_s": phases.seconds,
    }
