"""CPU cost per object of ingest and of the network publisher, measured in-process.

``make bench`` measures rates against the served hub, which on a busy shared machine say as
much about the neighbours as about the hub. This measures what a change costs: CPU time of
this process (``time.process_time()``, unaffected by other processes' load) per object
ingested through ``flows.ingest.add_objects`` and per IOC the publisher publishes, on the
benchmark's network (eight cities, the sharing policy of ``bench/network.py``, realistic
reports of which 30% repeat another city's IOC). The signature-verification pool's processes
are not this process: their CPU is not counted, the ingest wall time is printed beside.

    python -m bench.cpu                          # SQLite, 5,000 seeded + 5,000 timed reports
    python -m bench.cpu --backend postgres       # a throwaway PostgreSQL (its CPU not counted)
    python -m bench.cpu --cities 2               # two members, as the served ingest section
    python -m bench.cpu --profile publish        # cProfile of the timed publication, top 45
    python -m bench.cpu --alongside              # ingest beside `cityshield worker` (wall)
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import pstats
import random
import signal
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.hubs import databases, network_context, store, wait_published
from bench.network import CITIES, SUBMISSIONS, load_policy
from bench.served import cityshield_command
from bench.stix import reports
from cityshield.config import Settings
from cityshield.db import make_engine, session_scope
from cityshield.dedup.hub_context import HubContext
from cityshield.dedup.models import NetworkView, PendingIOC
from cityshield.hub.service import ensure_hub
from cityshield.migrate import upgrade
from cityshield.signing.pool import shutdown_pool, start_pool
from tests.utils.server import Hub, TestMember

ENVELOPE = 500


@contextmanager
def measured(profile: bool, sort: str = "cumulative") -> Iterator[dict[str, float]]:
    """CPU and wall seconds of the block (and a cProfile of it, printed, with ``profile``)."""
    figures: dict[str, float] = {}
    profiler = cProfile.Profile() if profile else None
    gc.collect()
    gc.freeze()  # the envelopes built beforehand are not the hub's garbage to scan
    cpu, wall = time.process_time(), time.perf_counter()
    if profiler is not None:
        profiler.enable()
    try:
        yield figures
    finally:
        if profiler is not None:
            profiler.disable()
        figures["cpu_s"] = time.process_time() - cpu
        figures["wall_s"] = time.perf_counter() - wall
        gc.unfreeze()
        if profiler is not None:
            pstats.Stats(profiler).sort_stats(sort).print_stats(45)


def add_cities(hub: Hub, count: int) -> dict[str, TestMember]:
    """The first ``count`` cities of :data:`bench.network.CITIES`, alternating groups (two
    are the served ingest section's northport and lakeside)."""
    (north, north_names), (south, south_names) = CITIES.items()
    order = [
        (n, g)
        for pair in zip(north_names, south_names, strict=True)
        for n, g in zip(pair, (north, south), strict=True)
    ]
    return {name: hub.member(name=name, groups=[group]) for name, group in order[:count]}


def local_hub(url: str, home: Path) -> Hub:
    """A migrated, initialised hub database without a server (nothing here goes over HTTP)."""
    settings = Settings(home=home, database_url=url, environment="test")
    engine = make_engine(settings.effective_database_url)
    upgrade(engine)
    with session_scope(engine) as session:
        ensure_hub(session, home=home, name="cpu bench hub")
    return Hub("local", settings, engine, base_url="")


class Reports:
    """Signed report envelopes, round-robin over the cities, 30% repeating others' IOCs."""

    def __init__(self, members: dict[str, TestMember], seed: int = 7) -> None:
        self.members, self.rng = members, random.Random(seed)
        self.reported: list[tuple[str, Any]] = []
        self.turn = 0

    def envelope(self) -> tuple[TestMember, list[dict[str, Any]]]:
        names = list(self.members)
        name = names[self.turn % len(names)]
        self.turn += 1
        picks = self.rng.sample(self.reported, min(len(self.reported), 300))
        repeats = [ioc for owner, ioc in picks if owner != name][:150]
        recipients = [m.identity_id for other, m in self.members.items() if other != name]
        objects, fresh = reports(
            self.members[name], ENVELOPE, self.rng, repeats=repeats, recipients=recipients
        )
        self.reported.extend((name, ioc) for ioc in fresh)
        return self.members[name], objects


def counts(hub: Hub) -> tuple[int, int]:
    """(IOCs queued for publication, member view rows)."""
    with session_scope(hub.engine) as session:
        queued = session.execute(select(func.count()).select_from(PendingIOC)).scalar_one()
        views = session.execute(select(func.count()).select_from(NetworkView)).scalar_one()
    return int(queued), int(views)


def run(
    url: str,
    workdir: Path,
    *,
    seed: int,
    timed: int,
    profile: str,
    sort: str,
    cities: int,
    alongside: bool = False,
) -> dict[str, Any]:
    hub = local_hub(url, workdir / "home")
    members = add_cities(hub, cities)
    load_policy(hub, workdir)
    context = network_context(hub)
    source = Reports(members)

    def fill(count: int) -> None:
        for _ in range(count // ENVELOPE):
            member, objects = source.envelope()
            store(hub, member, SUBMISSIONS, objects, context)

    fill(seed)
    hub.publish_network()
    planned = [source.envelope() for _ in range(timed // ENVELOPE)]

    def ingest() -> None:
        for member, objects in planned:
            store(hub, member, SUBMISSIONS, objects, context)

    if alongside:
        return _alongside(hub, planned, context)
    with measured(profile == "ingest", sort) as ingested:
        ingest()
    queued, views_before = counts(hub)
    with measured(profile == "publish", sort) as published:
        hub.publish_network()
    _, views_after = counts(hub)
    objects = len(planned) * ENVELOPE
    views = views_after - views_before
    return {
        "objects": objects,
        "ingest_cpu_us_per_object": round(ingested["cpu_s"] * 1e6 / objects),
        "ingest_wall_us_per_object": round(ingested["wall_s"] * 1e6 / objects),
        "iocs_published": queued,
        "views_written": views,
        "publish_cpu_us_per_ioc": round(published["cpu_s"] * 1e6 / max(queued, 1)),
        "publish_wall_us_per_ioc": round(published["wall_s"] * 1e6 / max(queued, 1)),
    }


def _alongside(
    hub: Hub, planned: list[tuple[TestMember, list[dict[str, Any]]]], context: HubContext
) -> dict[str, Any]:
    """The timed envelopes ingested while ``cityshield worker`` (its own process, as
    ``serve`` starts it) publishes them: how long each envelope's ingest takes (the
    worker's writes in its way included) and how long after the last one the worker has
    published everything. Wall times: meaningful only between runs on one machine state."""
    home, url = hub.settings.home, hub.settings.effective_database_url
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITYSHIELD_")}
    env.update(CITYSHIELD_HOME=str(home), CITYSHIELD_DATABASE_URL=url)
    worker = subprocess.Popen(
        [*cityshield_command(), "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        time.sleep(3)  # started, hub context loaded
        envelope_s: list[float] = []
        for member, objects in planned:
            began = time.perf_counter()
            store(hub, member, SUBMISSIONS, objects, context)
            envelope_s.append(time.perf_counter() - began)
        caught_up = wait_published(hub, 600)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
    envelope_s.sort()
    return {
        "envelopes": len(envelope_s),
        "envelope_s_median": round(statistics.median(envelope_s), 3),
        "envelope_s_max": round(envelope_s[-1], 3),
        "published_s_after_last": None if caught_up is None else round(caught_up, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--seed", type=int, default=5000, help="reports stored before timing")
    parser.add_argument("--timed", type=int, default=5000, help="reports ingested, timed")
    parser.add_argument("--cities", type=int, default=8, help="members reporting (and viewing)")
    parser.add_argument("--profile", choices=["", "ingest", "publish"], default="")
    parser.add_argument("--sort", choices=["cumulative", "tottime"], default="cumulative")
    parser.add_argument(
        "--alongside",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="ingest while `cityshield worker` publishes (wall times, not CPU)",
    )
    args = parser.parse_args()
    start_pool()
    try:
        with (
            tempfile.TemporaryDirectory(prefix="cityshield-cpu-") as tmp,
            databases(args.backend, Path(tmp)) as (new_url, _),
        ):
            result = run(
                new_url(),
                Path(tmp),
                seed=args.seed,
                timed=args.timed,
                profile=args.profile,
                sort=args.sort,
                cities=args.cities,
                alongside=args.alongside,
            )
    finally:
        shutdown_pool()
    for name, value in result.items():
        print(f"{name:28} {value}")


if __name__ == "__main__":
    main()
