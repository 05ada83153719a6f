"""``python -m bench.run``: cityshield vs medallion, cityshield from 10k to 1M, ceilings,
signed ingest and dedup overhead, reads under a sharing policy, memory per MB posted.

Every hub figure is measured over HTTP on 127.0.0.1 with one httpx client, each server in
its own process. Stores are filled through the hub's own ingest path (``add_objects``)
in-process, because those sections measure reads, not how the store got there.
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

import httpx
from sqlalchemy import select

from bench import ceilings, load, memory, network
from bench.goals import (
    DEDUP_OVERHEAD_TARGET,
    FILTERED_READ_TARGET,
    FLAT_TARGET,
    INGEST_TARGET,
    MEMORY_PER_MB_TARGET,
    READ_TARGET,
)
from bench.hubs import databases, fill, objects_url, running_hub, settle
from bench.measure import PAGE, Ingest, Read, client, ingest, paged_read
from bench.report import print_report
from bench.servers import MEDALLION_COLLECTION, MEDALLION_USER, medallion_server
from bench.stix import envelopes, signed_indicators
from cityshield.db import session_scope
from cityshield.store.collections import SUBMISSIONS_ALIAS, collection_id_for
from cityshield.store.models import StixObject
from cityshield.timefmt import format_date_added
from tests.utils.server import Hub

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"


@dataclass(frozen=True)
class Plan:
    """How much work one run does; ``--quick`` is the same run, smaller."""

    compare_objects: int = 5_000
    sizes: tuple[int, ...] = (10_000, 100_000, 1_000_000)
    window_pages: int = 20
    repeats: int = 3
    ingest_envelopes: int = 10
    medallion_timeout_s: float = 120.0
    ceiling_rows: int = 100_000
    rounds: int = 50
    signature_objects: int = 2_000
    signed_envelopes: int = 20
    overlap: float = 0.30
    policy_store: int = 50_000
    read_repeats: int = 5
    network_deadline_s: float = 120.0
    memory_sizes_mib: tuple[int, ...] = (1, 8)


QUICK = Plan(
    compare_objects=1_000,
    sizes=(2_000, 10_000),
    window_pages=5,
    ingest_envelopes=4,
    medallion_timeout_s=30.0,
    ceiling_rows=10_000,
    rounds=10,
    signature_objects=500,
    signed_envelopes=4,
    policy_store=20_000,
    read_repeats=3,
    network_deadline_s=20.0,
    memory_sizes_mib=(1, 4),
)


def compare(plan: Plan, backend: str, new_db: Callable[[], str], workdir: Path) -> dict[str, Any]:
    """The same signed envelopes into medallion and into cityshield, then one paged read.

    cityshield also takes a second, fresh batch into ``submissions``, the collection
    members really post to, where every object also feeds the network view (dedup).
    """
    result: dict[str, Any] = {"objects": plan.compare_objects}
    with running_hub(backend, new_db()) as hub:
        member = hub.member()
        bodies = list(envelopes(signed_indicators(member, plan.compare_objects)))
        with medallion_server(workdir) as base_url, client(MEDALLION_USER) as http:
            url = f"{base_url}/api1/collections/{MEDALLION_COLLECTION}/objects/"
            result["medallion"] = _ingest_then_read(http, url, bodies, plan.medallion_timeout_s)
        with client((member.name, member.token)) as http:
            url = objects_url(hub, hub.collection())
            result["cityshield"] = _ingest_then_read(http, url, bodies, 600.0)
            fresh = list(envelopes(signed_indicators(member, plan.compare_objects)))
            url = objects_url(hub, collection_id_for(SUBMISSIONS_ALIAS))
            try:
                result["cityshield"]["submissions"] = ingest(http, url, fresh).as_dict()
            except httpx.HTTPStatusError as exc:  # an extra figure; keep the run going
                result["cityshield"]["submissions"] = {"error": f"HTTP {exc.response.status_code}"}
    return result


def _ingest_then_read(http: Any, url: str, bodies: list[bytes], timeout: float) -> dict[str, Any]:
    done = ingest(http, url, bodies)
    read = paged_read(http, url, deadline_s=timeout)
    return {"ingest": done.as_dict(), "read": read.as_dict()}


def added_after(hub: Hub, collection_id: str, index: int) -> dict[str, str]:
    """The ``added_after`` filter whose first match is the ``index``-th stored object."""
    if index <= 0:
        return {}
    query = (
        select(StixObject.date_added_us)
        .where(StixObject.collection_id == collection_id)
        .order_by(StixObject.date_added_us)
        .offset(index - 1)
        .limit(1)
    )
    with session_scope(hub.engine) as session:
        return {"added_after": format_date_added(session.execute(query).scalar_one())}


def read_windows(plan: Plan, http: Any, hub: Hub, collection_id: str, size: int) -> dict[str, Read]:
    """Pages from the start, the middle and the end of the store (median of repeats)."""
    pages = max(1, min(plan.window_pages, size // (2 * PAGE)))
    starts = {"start": 0, "middle": size // 2 - pages * PAGE // 2, "end": size - pages * PAGE}
    url = objects_url(hub, collection_id)
    paged_read(http, url, max_pages=1)  # warm the connection and the server's caches
    windows = {}
    for name, index in starts.items():
        params = added_after(hub, collection_id, index)
        runs = [paged_read(http, url, params=params, max_pages=pages) for _ in range(plan.repeats)]
        windows[name] = sorted(runs, key=lambda run: run.seconds)[len(runs) // 2]
        assert windows[name].objects == pages * PAGE, windows[name]
    return windows


def scale(plan: Plan, backend: str, url: str) -> list[dict[str, Any]]:
    """One growing store: top up to each size, read windows, then ingest over HTTP."""
    rows: list[dict[str, Any]] = []
    with running_hub(backend, url) as hub:
        member = hub.member()
        collection_id = hub.collection()
        stored = 0
        with client((member.name, member.token)) as http:
            for size in sorted(plan.sizes):
                started = time.perf_counter()
                added = size - stored
                fill(hub, member, collection_id, added)
                settle(hub)
                fill_s = time.perf_counter() - started
                windows = read_windows(plan, http, hub, collection_id, size)
                bodies = list(envelopes(signed_indicators(member, plan.ingest_envelopes * 500)))
                done: Ingest = ingest(http, objects_url(hub, collection_id), bodies)
                stored = size + done.objects
                total = Read(
                    sum(w.objects for w in windows.values()),
                    sum(w.pages for w in windows.values()),
                    sum(w.seconds for w in windows.values()),
                    None,
                )
                rows.append(
                    {
                        "size": size,
                        "fill_s": round(fill_s, 2),
                        "fill_objects_per_s": round(added / fill_s) if added else None,
                        "windows": {name: w.as_dict() for name, w in windows.items()},
                        "read": total.as_dict(),
                        "ingest": done.as_dict(),
                    }
                )
                print(f"  {size:,} stored objects measured", flush=True)
    return rows


def measure_ceilings(
    plan: Plan, backend: str, new_db: Callable[[], str], workdir: Path
) -> dict[str, Any]:
    result = {
        "sqlite_insert": ceilings.sqlite_insert(workdir, plan.ceiling_rows),
        "page": ceilings.page_serving(workdir, plan.rounds),
    }
    if backend == "postgres":
        result["postgres_insert"] = ceilings.postgres_insert(new_db(), plan.ceiling_rows)
    return result


def signed(plan: Plan, backend: str, url: str) -> dict[str, Any]:
    """Signed ingest (plain collection vs ``submissions``) next to the signature ceilings."""
    return {
        "signature_ceilings": ceilings.signature_work(plan.signature_objects),
        **network.signed_ingest(
            backend, url, envelopes=plan.signed_envelopes, overlap=plan.overlap
        ),
    }


def policy(plan: Plan, backend: str, url: str, workdir: Path) -> dict[str, Any]:
    return network.policy_reads(
        backend,
        url,
        workdir,
        size=plan.policy_store,
        overlap=plan.overlap,
        repeats=plan.read_repeats,
        network_deadline_s=plan.network_deadline_s,
    )


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The goals the hub is held to, each with its measured value and PASS/MISS (for the
    sections that were measured)."""
    found: list[dict[str, Any]] = []
    sizes = results.get("sizes")
    if sizes:
        read = min(row["read"]["objects_per_s"] for row in sizes)
        flat = sizes[-1]["read"]["ms_per_page"] / sizes[0]["read"]["ms_per_page"]
        span = f"{sizes[0]['size']:,} -> {sizes[-1]['size']:,}"
        found += [
            _target(
                "paged read, slowest size (objects/s)",
                read,
                f">= {READ_TARGET:,}",
                read >= READ_TARGET,
            ),
            _target(
                f"page cost ratio {span}", round(flat, 2), f"<= {FLAT_TARGET}", flat <= FLAT_TARGET
            ),
        ]
    if sizes and "compare" in results:
        ingest_rate = min(row["ingest"]["objects_per_s"] for row in sizes)
        ingest_rate = min(ingest_rate, results["compare"]["cityshield"]["ingest"]["objects_per_s"])
        found.append(
            _target(
                "ingest, 500-object envelopes, slowest (objects/s)",
                ingest_rate,
                f">= {INGEST_TARGET:,}",
                ingest_rate >= INGEST_TARGET,
            )
        )
    found += network_targets(results)
    return found


def network_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Targets of the network sections (signed ingest, dedup overhead, filtered reads)."""
    found: list[dict[str, Any]] = []
    if "signed" in results:
        rate = results["signed"]["plain"]["objects_per_s"]
        overhead = results["signed"]["dedup_overhead"]
        found.append(
            _target(
                "signed ingest, realistic reports, plain collection (objects/s)",
                rate,
                f">= {INGEST_TARGET:,}",
                rate >= INGEST_TARGET,
            )
        )
        found.append(
            _target(
                "dedup overhead, 'submissions' vs plain (extra time/object)",
                "n/a" if overhead is None else f"{overhead:.1%}",
                f"<= {DEDUP_OVERHEAD_TARGET:.0%}",
                overhead is not None and overhead <= DEDUP_OVERHEAD_TARGET,
            )
        )
    if "memory" in results and results["memory"]["peak_per_mb"] is not None:
        peak = results["memory"]["peak_per_mb"]
        found.append(
            _target(
                "peak memory per MB posted (hub process, MB)",
                peak,
                f"<= {MEMORY_PER_MB_TARGET}",
                peak <= MEMORY_PER_MB_TARGET,
            )
        )
    if "policy" in results:
        ratio = results["policy"]["filtered_ratio"]
        found.append(
            _target(
                "policy-filtered read / unfiltered read (objects/s)",
                f"{ratio:.1%}",
                f">= {FILTERED_READ_TARGET:.0%}",
                ratio >= FILTERED_READ_TARGET,
            )
        )
    return found


def _target(name: str, measured: float | str, goal: str, ok: bool) -> dict[str, Any]:
    return {"target": name, "measured": measured, "goal": goal, "result": "PASS" if ok else "MISS"}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small smoke run (< 1 minute)")
    parser.add_argument("--sizes", help="comma-separated store sizes, e.g. 10000,100000,1000000")
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    plan = QUICK if args.quick else Plan()
    if args.sizes:
        plan = replace(plan, sizes=tuple(int(s.replace("_", "")) for s in args.sizes.split(",")))
    results: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "backend": args.backend,
        "quick": args.quick,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "load_average_start": round(os.getloadavg()[0], 2),
    }
    started = time.perf_counter()
    try:
        with (
            tempfile.TemporaryDirectory(prefix="cityshield-bench-") as tmp,
            databases(args.backend, Path(tmp)) as (new_db, database_pids),
        ):
            workdir = Path(tmp)
            sections: dict[str, Callable[[], Any]] = {
                "compare": lambda: compare(plan, args.backend, new_db, workdir),
                "sizes": lambda: scale(plan, args.backend, new_db()),
                "ceilings": lambda: measure_ceilings(plan, args.backend, new_db, workdir),
                "signed": lambda: signed(plan, args.backend, new_db()),
                "policy": lambda: policy(plan, args.backend, new_db(), workdir),
                "memory": lambda: memory.posted_memory(
                    args.backend, new_db(), sizes_mib=plan.memory_sizes_mib
                ),
            }
            results["load"] = {}
            for name, section in sections.items():
                print(f"{name} ...", flush=True)
                with load.Monitor(roots=database_pids) as monitor:
                    results[name] = section()
                results["load"][name] = monitor.figures
                save(results)
                print(f"{name}: {results['load'][name]['seconds']:.0f} s", flush=True)
    finally:  # a late failure still leaves the figures already measured
        results["seconds"] = round(time.perf_counter() - started, 1)
        results["load_average_end"] = round(os.getloadavg()[0], 2)
        results["targets"] = targets(results)
        save(results)
        print_report(results)
        print(f"\nresults written to {RESULTS}")
    return 0


def save(results: dict[str, Any]) -> None:
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    raise SystemExit(main())
