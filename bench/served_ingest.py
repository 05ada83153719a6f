"""Section 1: signed ingest into ``submissions`` as served, its network lag and its dedup
overhead, beside medallion 3.0.0 and OpenTAXII 0.9.3 posted to by the same client.

One ``cityshield serve`` (API + worker) starts with ``known`` IOCs already reported by
another member and published (so 30% of every envelope corroborates something the network
view holds), and a plain writable collection holding as many objects. Then, ``runs``
times, in turn: ``envelopes`` envelopes into ``submissions`` while a :class:`NetworkWatch`
polls ``network`` as the posting member (the lag of each envelope), a wait until the worker
is idle, the same number of envelopes of the same shape into the plain collection, and the
plain envelopes again into medallion and into OpenTAXII. Alternating run by run means a
change of machine load weighs on every server alike. Finally each server's collection is
read once, whole.
"""

from __future__ import annotations

import math
import random
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import orjson

from bench.hubs import network_context, objects_url, store, wait_published
from bench.lag import NetworkWatch, counted_ids
from bench.measure import Ingest, Phases, client, ingest, paged_read, spread
from bench.network import ENVELOPE, NETWORK, SUBMISSIONS, views_added_after
from bench.opentaxii import OPENTAXII_USER, opentaxii_server
from bench.served import served_hub
from bench.servers import MEDALLION_COLLECTION, MEDALLION_USER, medallion_server
from bench.stix import IOC, reports
from tests.utils.server import Hub, TestMember

PUBLISH_TIMEOUT_S = 600.0
Targets = dict[str, tuple[str, tuple[str, str]] | str]
"""name -> (objects URL, credentials) of each server besides ``submissions``, or why it is
unavailable."""


def fill_known(
    hub: Hub, reporter: TestMember, poster: TestMember, plain: str, known: int, rng: Any
) -> list[IOC]:
    """``known`` reports by ``reporter`` into ``submissions`` (feeding dedup) and as many
    into the plain collection; returns the IOCs, for repeats."""
    context = network_context(hub)
    recipients = [poster.identity_id]
    pool: list[IOC] = []
    for start in range(0, known, 5_000):
        count = min(5_000, known - start)
        objects, fresh = reports(reporter, count, rng, repeats=[], recipients=recipients)
        store(hub, reporter, SUBMISSIONS, objects, context)
        pool += fresh
        same_size, _ = reports(reporter, count, rng, repeats=[], recipients=recipients)
        store(hub, reporter, plain, same_size)
    return pool


class Envelopes:
    """Pre-serialised envelopes by ``poster``, each repeating ``overlap`` of known IOCs
    (never the same one twice), and the ids of each one's countable reports."""

    def __init__(
        self, poster: TestMember, recipient: str, pool: list[IOC], overlap: float, rng: Any
    ) -> None:
        self.poster, self.recipient, self.rng = poster, recipient, rng
        self.pool = list(pool)
        rng.shuffle(self.pool)
        self.repeats = round(ENVELOPE * overlap)

    def make(self, count: int) -> tuple[list[bytes], list[set[str]]]:
        bodies, counted = [], []
        for _ in range(count):
            repeats, self.pool = self.pool[: self.repeats], self.pool[self.repeats :]
            objects, _ = reports(
                self.poster, ENVELOPE, self.rng, repeats=repeats, recipients=[self.recipient]
            )
            bodies.append(orjson.dumps({"objects": objects}))
            counted.append(counted_ids(objects))
        return bodies, counted


def _peers(stack: ExitStack, workdir: Path) -> Targets:
    """The peers' objects URLs and credentials, or why one could not be started."""
    found: Targets = {}
    try:
        base = stack.enter_context(medallion_server(workdir))
        url = f"{base}/api1/collections/{MEDALLION_COLLECTION}/objects/"
        found["medallion"] = (url, MEDALLION_USER)
    except Exception as exc:  # a peer that cannot run is reported, not fatal
        found["medallion"] = f"did not start: {type(exc).__name__}: {exc}"[:300]
    try:
        found["opentaxii"] = (stack.enter_context(opentaxii_server(workdir)), OPENTAXII_USER)
    except Exception as exc:
        found["opentaxii"] = f"did not start: {type(exc).__name__}: {exc}"[:300]
    return found


def _lag_run(
    http: Any, hub: Hub, poster: TestMember, bodies: list[bytes], counted: list[set[str]]
) -> tuple[Ingest, dict[str, Any]]:
    """Envelopes into ``submissions`` while the network collection is watched."""
    answered: dict[int, float] = {}
    network_url = objects_url(hub, NETWORK)
    start = views_added_after(hub, poster)
    with NetworkWatch(network_url, (poster.name, poster.token), start) as watch:
        done = ingest(http, objects_url(hub, SUBMISSIONS), bodies, answered=answered.__setitem__)
        everything = set().union(*counted[: len(answered)])
        all_seen = watch.wait_for(everything, PUBLISH_TIMEOUT_S)
        lags = [watch.lag(counted[i], answered[i]) for i in sorted(answered)]
        last = watch.lag(everything, max(answered.values())) if answered else None
    return done, {
        "lag_s": [None if lag is None else round(lag, 4) for lag in lags],
        "after_last_post_s": None if last is None else round(last, 4),
        "all_seen": all_seen,
        "polls": watch.polls,
        "watch_errors": watch.errors[:5],
    }


def percentile(values: list[float | None], share: float) -> float | None:
    """Nearest-rank percentile; a value that never came (None) ranks above every other."""
    if not values:
        return None
    ranked = sorted(values, key=lambda v: math.inf if v is None else v)
    return ranked[max(0, math.ceil(share * len(ranked)) - 1)]


def ingest_totals(runs: list[Ingest]) -> dict[str, Any]:
    objects = sum(run.objects for run in runs)
    seconds = sum(run.seconds for run in runs)
    errors = [run.error for run in runs if run.error]
    return {
        "objects": objects,
        "seconds": round(seconds, 3),
        "objects_per_s": round(objects / seconds) if seconds else 0,
        "runs_objects_per_s": spread([run.rate for run in runs]),
        "failures": sum(run.failures for run in runs),
        "error": errors[0] if errors else None,
        "runs": [run.as_dict() for run in runs],
    }


def _warm_up(http: Any, hub: Hub, poster: TestMember, made: Envelopes, targets: Targets) -> None:
    """One untimed envelope into each (verification pool, caches, connections)."""
    warm, counted = made.make(2)
    _lag_run(http, hub, poster, warm[:1], counted[:1])
    wait_published(hub, PUBLISH_TIMEOUT_S)
    for target in targets.values():
        if isinstance(target, tuple):
            with client(target[1]) as peer:
                ingest(peer, target[0], warm[1:])


def _alternate(
    http: Any,
    hub: Hub,
    poster: TestMember,
    made: Envelopes,
    targets: Targets,
    runs: int,
    envelopes: int,
) -> tuple[dict[str, list[Ingest]], list[dict[str, Any]]]:
    """``runs`` times: ``submissions`` (watched), then each other server in turn."""
    timed: dict[str, list[Ingest]] = {"submissions": [], **{name: [] for name in targets}}
    lag_runs: list[dict[str, Any]] = []
    for _ in range(runs):
        bodies, counted = made.make(envelopes)
        done, lag = _lag_run(http, hub, poster, bodies, counted)
        timed["submissions"].append(done)
        lag_runs.append(lag)
        wait_published(hub, PUBLISH_TIMEOUT_S)  # the worker idle before the next server
        plain_bodies, _ = made.make(envelopes)
        for name, target in targets.items():
            if isinstance(target, tuple):
                with client(target[1]) as peer:
                    timed[name].append(ingest(peer, target[0], plain_bodies))
    return timed, lag_runs


def served_ingest(
    backend: str,
    url: str,
    workdir: Path,
    *,
    runs: int,
    envelopes: int,
    known: int,
    overlap: float,
    peers: bool,
    read_deadline_s: float,
    seed: int = 2101,
) -> dict[str, Any]:
    rng = random.Random(seed)
    phases = Phases()
    with ExitStack() as stack:
        served = stack.enter_context(served_hub(backend, url, workdir=workdir))
        hub = served.hub
        phases.mark("serve_start")
        reporter = hub.member(name="northport", groups=["north"])
        poster = hub.member(name="lakeside", groups=["south"])
        plain = hub.collection()
        pool = fill_known(hub, reporter, poster, plain, known, rng)
        phases.mark("fill_known")
        known_wait = wait_published(hub, PUBLISH_TIMEOUT_S)
        phases.mark("known_published")
        made = Envelopes(poster, reporter.identity_id, pool, overlap, rng)
        targets: Targets = {"plain": (objects_url(hub, plain), (poster.name, poster.token))}
        if peers:
            targets.update(_peers(stack, workdir))
        phases.mark("peers_start")
        http = stack.enter_context(client((poster.name, poster.token)))
        _warm_up(http, hub, poster, made, targets)
        phases.mark("warm_up")
        timed, lag_runs = _alternate(http, hub, poster, made, targets, runs, envelopes)
        phases.mark("runs")
        reads = {}
        for name, target in targets.items():
            if isinstance(target, tuple):
                with client(target[1]) as peer:
                    reads[name] = paged_read(peer, target[0], deadline_s=read_deadline_s).as_dict()
        phases.mark("reads")
    lags = [lag for run in lag_runs for lag in run["lag_s"]]
    result = {
        "known_iocs": known,
        "known_published_s": None if known_wait is None else round(known_wait, 2),
        "runs": runs,
        "envelopes_per_run": envelopes,
        "envelope_objects": ENVELOPE,
        "overlap": overlap,
        "ingest": {name: ingest_totals(done) for name, done in timed.items()},
        "unavailable": {name: t for name, t in targets.items() if isinstance(t, str)},
        "reads": reads,
        "lag": {
            "runs": lag_runs,
            "p50_s": percentile(lags, 0.50),
            "p95_s": percentile(lags, 0.95),
            "max_s": percentile(lags, 1.0),
            "envelopes": len(lags),
            "not_seen": sum(1 for lag in lags if lag is None),
        },
        "phases_s": phases.seconds,
    }
    result["dedup_overhead"] = _overhead(result["ingest"]["submissions"], result["ingest"]["plain"])
    return result


def _overhead(dedup: dict[str, Any], plain: dict[str, Any]) -> float | None:
    """Extra time per object of ingest into ``submissions`` over the plain collection."""
    if not dedup["objects_per_s"] or not plain["objects_per_s"]:
        return None
    return round(plain["objects_per_s"] / dedup["objects_per_s"] - 1, 4)
