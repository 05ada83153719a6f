"""``python -m bench.run``: the hub as served (``cityshield serve``: API + worker) beside
medallion and OpenTAXII: signed ingest into ``submissions``, network lag, dedup overhead,
paged reads at 20k and 1M stored, the machine's ceilings, memory per MB posted, the
analyst API's bulk lookup of 10,000 values against 1M stored reports (the reads' store),
the worker's import of a 1,000,000-line feed, a 300,000-value EDL export with its 304, and
push delivery: ingest with 20 members' push targets against without, and an urgent
submission's time to every member's TAXII server and webhook.

Every hub figure is measured over HTTP on 127.0.0.1 with one httpx client against the real
``cityshield serve`` process tree. Stores are filled through the hub's own ingest path
(``add_objects``) in-process, because those sections measure reads, not how the store got
there; the served worker publishes what the fills queue, as it would after POSTs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bench import ceilings, load, memory, opentaxii
from bench.delivery_fanout import served_delivery
from bench.feeds_import import FEED_TYPES, served_feed_import
from bench.hubs import databases
from bench.lookup import served_lookup
from bench.report import print_report
from bench.served_exports import served_exports
from bench.served_ingest import served_ingest
from bench.served_reads import served_reads
from bench.stores import CityStores
from bench.targets import targets

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"
SECTIONS = ("ingest", "reads", "ceilings", "memory", "lookup", "feeds", "exports", "delivery")
STORE_SECTIONS = ("reads", "lookup")
"""The sections that share one city store per backend (``bench/stores.py``)."""


@dataclass(frozen=True)
class Plan:
    """How much work one run does; ``--quick`` is the same run, smaller."""

    runs: int = 3
    envelopes: int = 10
    known_iocs: int = 30_000
    overlap: float = 0.30
    peer_read_deadline_s: float = 60.0
    read_sizes: tuple[int, ...] = (20_000, 1_000_000)
    read_runs: int = 3
    read_deadline_s: float = 600.0
    publish_timeout_s: float = 4 * 3600.0
    ceiling_rows: int = 100_000
    rounds: int = 50
    signature_objects: int = 2_000
    memory_sizes_mib: tuple[int, ...] = (1, 8)
    lookup_size: int = 1_000_000
    lookup_values: int = 10_000
    lookup_runs: int = 20
    feed_lines: int = 1_000_000
    feed_type: str = "ipv4-addr"
    feed_timeout_s: float = 4 * 3600.0
    export_values: int = 300_000
    export_max: int = 50_000
    export_runs: int = 5
    export_not_modified_runs: int = 20
    delivery_targets: int = 20
    delivery_runs: int = 3
    delivery_envelopes: int = 10
    urgent_submissions: int = 20
    urgent_gap_s: float = 1.0
    urgent_deadline_s: float = 60.0
    background_size: int = 100
    background_interval_s: float = 1.0
    webhooks_urgent_only: bool = True


QUICK = Plan(
    runs=2,
    envelopes=2,
    known_iocs=2_000,
    peer_read_deadline_s=20.0,
    read_sizes=(5_000,),
    read_runs=2,
    read_deadline_s=60.0,
    publish_timeout_s=120.0,
    ceiling_rows=10_000,
    rounds=10,
    signature_objects=500,
    memory_sizes_mib=(1, 4),
    lookup_size=5_000,
    lookup_values=2_000,
    lookup_runs=5,
    feed_lines=20_000,
    feed_timeout_s=1800.0,
    export_values=10_000,
    export_max=2_000,
    export_runs=3,
    export_not_modified_runs=10,
    delivery_targets=5,
    delivery_runs=2,
    delivery_envelopes=2,
    urgent_submissions=5,
    urgent_deadline_s=30.0,
)


def section_runners(
    plan: Plan,
    backend: str,
    new_db: Callable[[], str],
    workdir: Path,
    *,
    peers: bool,
    stores: CityStores,
) -> dict[str, Callable[[], Any]]:
    return {
        "ingest": lambda: served_ingest(
            backend,
            new_db(),
            workdir,
            runs=plan.runs,
            envelopes=plan.envelopes,
            known=plan.known_iocs,
            overlap=plan.overlap,
            peers=peers,
            read_deadline_s=plan.peer_read_deadline_s,
        ),
        "reads": lambda: served_reads(
            stores.at_most(min(plan.read_sizes)),
            sizes=plan.read_sizes,
            runs=plan.read_runs,
            read_deadline_s=plan.read_deadline_s,
            publish_timeout_s=plan.publish_timeout_s,
        ),
        "ceilings": lambda: ceilings.measure(
            backend,
            new_db,
            workdir,
            rows=plan.ceiling_rows,
            rounds=plan.rounds,
            signature_objects=plan.signature_objects,
        ),
        "memory": lambda: memory.posted_memory(
            backend, new_db(), workdir, sizes_mib=plan.memory_sizes_mib
        ),
        "lookup": lambda: served_lookup(
            stores.at_most(plan.lookup_size),
            size=plan.lookup_size,
            values=plan.lookup_values,
            runs=plan.lookup_runs,
            publish_timeout_s=plan.publish_timeout_s,
        ),
        "feeds": lambda: served_feed_import(
            backend,
            new_db(),
            workdir,
            lines=plan.feed_lines,
            kind=plan.feed_type,
            timeout_s=plan.feed_timeout_s,
            publish_timeout_s=plan.publish_timeout_s,
        ),
        "exports": lambda: served_exports(
            backend,
            new_db(),
            workdir,
            values=plan.export_values,
            overlap=plan.overlap,
            cut=plan.export_max,
            runs=plan.export_runs,
            not_modified_runs=plan.export_not_modified_runs,
            publish_timeout_s=plan.publish_timeout_s,
        ),
        "delivery": lambda: served_delivery(
            backend,
            new_db,
            workdir,
            targets=plan.delivery_targets,
            runs=plan.delivery_runs,
            envelopes=plan.delivery_envelopes,
            urgent=plan.urgent_submissions,
            urgent_gap_s=plan.urgent_gap_s,
            urgent_deadline_s=plan.urgent_deadline_s,
            background_size=plan.background_size,
            background_interval_s=plan.background_interval_s,
            webhooks_urgent_only=plan.webhooks_urgent_only,
            publish_timeout_s=plan.publish_timeout_s,
        ),
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small smoke run (1-2 minutes)")
    parser.add_argument(
        "--backend",
        choices=("sqlite", "postgres", "both"),
        help="SQLite, a throwaway PostgreSQL (tests/utils/postgres.py), or both in turn "
        "(default: both; sqlite with --quick)",
    )
    parser.add_argument("--sizes", help="store sizes of the reads, e.g. 20000,1000000")
    parser.add_argument(
        "--sections", help=f"comma-separated subset of {','.join(SECTIONS)} (default: all)"
    )
    parser.add_argument("--no-peers", action="store_true", help="skip medallion and OpenTAXII")
    parser.add_argument(
        "--feed-type",
        choices=FEED_TYPES,
        help="the observable type of the feed section's text feed (default ipv4-addr)",
    )
    return parser.parse_args(argv)


def _plan(args: argparse.Namespace) -> Plan:
    plan = QUICK if args.quick else Plan()
    if args.sizes:
        sizes = tuple(int(s.replace("_", "")) for s in args.sizes.split(","))
        plan = replace(plan, read_sizes=sizes)
    if args.feed_type:
        plan = replace(plan, feed_type=args.feed_type)
    return plan


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    plan = _plan(args)
    wanted = args.sections.split(",") if args.sections else list(SECTIONS)
    unknown = set(wanted) - set(SECTIONS)
    if unknown:
        raise SystemExit(f"unknown sections: {', '.join(sorted(unknown))}")
    backend = args.backend or ("sqlite" if args.quick else "both")
    backends = ["sqlite", "postgres"] if backend == "both" else [backend]
    results: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "quick": args.quick,
        "plan": {k: v for k, v in vars(plan).items()},
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "load_average_start": round(os.getloadavg()[0], 2),
        "backends": {},
        "load": {},
        "notes": [] if args.no_peers or "ingest" not in wanted else [opentaxii.NOTE],
    }
    started = time.perf_counter()
    try:
        for index, backend in enumerate(backends):
            measured: dict[str, Any] = results["backends"].setdefault(backend, {})
            with (
                tempfile.TemporaryDirectory(prefix="cityshield-bench-") as tmp,
                databases(backend, Path(tmp)) as (new_db, database_pids),
                CityStores(backend, new_db, Path(tmp), overlap=plan.overlap) as stores,
            ):
                # The peers do not depend on the hub's backend: run them once, beside the first.
                peers = index == 0 and not args.no_peers
                runners = section_runners(
                    plan, backend, new_db, Path(tmp), peers=peers, stores=stores
                )
                for position, name in enumerate(wanted):
                    if not set(STORE_SECTIONS) & set(wanted[position:]):
                        stores.close()  # no section left needs the shared store
                    label = f"{backend}/{name}"
                    print(f"{label} ...", flush=True)
                    with load.Monitor(roots=database_pids) as monitor:
                        measured[name] = runners[name]()
                    results["load"][label] = monitor.figures
                    save(results)
                    print(f"{label}: {monitor.figures['seconds']:.0f} s", flush=True)
    finally:  # a late failure still leaves the figures already measured
        results["seconds"] = round(time.perf_counter() - started, 1)
        results["load_average_end"] = round(os.getloadavg()[0], 2)
        results["targets"] = targets(results["backends"])
        save(results)
        print_report(results)
        print(f"\nresults written to {RESULTS}")
    return 0


def save(results: dict[str, Any]) -> None:
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    raise SystemExit(main())
