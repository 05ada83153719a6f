"""Section 2: paged reads as served, by store size, under a sharing policy.

One hub with the eight cities of ``bench.network.CITIES``, an admin and
:data:`bench.network.POLICY` (``bench/stores.py``: the store the lookup section then
uses at 1M). Its ``submissions`` store grows to each size through the
hub's own ingest path in-process (round-robin batches of 1,000 reports per member, 30%
repeating IOCs other members reported, each batch queueing its IOCs for publication as a
POST does) while the hub is not served: a bulk load, and the fastest route to 1M stored,
since a fill beside a running worker waits on the write lock the publisher holds. Then
``cityshield serve`` (API + worker) starts on that store and its worker publishes the
backlog. Right after it starts, the first read of ``submissions`` is timed on its own (its
slowest page, and that of the first ``network`` read, are the "right after a bulk load"
figure: planner statistics must be current by then); the wait for the worker to catch up
is recorded (from serve's start); then
``submissions`` as member ``lakeside`` (audience predicate applied), as the admin
(unfiltered), and ``network`` as ``lakeside`` (its own views: per-viewer variants of the
TLP:AMBER/RED mix and the policy's allow and deny), alternating, ``runs`` times each.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import func, select

from bench.hubs import objects_url, wait_published
from bench.measure import Read, client, median_read, paged_read
from bench.network import NETWORK, READER, SUBMISSIONS
from bench.served import Served, serving
from bench.stores import CityStore
from cityshield.db import session_scope
from cityshield.dedup.models import NetworkIOC, NetworkView
from tests.utils.server import Hub, TestMember


def _reads(count: int, readers: dict[str, tuple[Any, str]], deadline_s: float) -> dict[str, Any]:
    runs: dict[str, list[Read]] = {name: [] for name in readers}
    for _ in range(count):  # alternate, so every read sees the same machine load
        for name, (http, url) in readers.items():
            runs[name].append(paged_read(http, url, deadline_s=deadline_s))
    return {
        name: {**median_read(done).as_dict(), "runs_objects_per_s": [round(r.rate) for r in done]}
        for name, done in runs.items()
    }


def _row(
    size: int,
    fill: dict[str, Any],
    caught_up: float | None,
    published: dict[str, int],
    first_submissions: Read,
    first_network: Read,
    reads: dict[str, Any],
) -> dict[str, Any]:
    admin, member = reads["submissions_admin"], reads["submissions_member"]
    slowest = max(first_submissions.slowest_page_s, first_network.slowest_page_s)
    return {
        "size": size,
        "fill": fill,
        "worker_caught_up_s": None if caught_up is None else round(caught_up, 2),
        "published": published,
        "after_bulk_load": {
            "submissions_member": first_submissions.as_dict(),
            "network_member": first_network.as_dict(),
            "slowest_page_ms": round(1000 * slowest, 1),
        },
        **reads,
        "filtered_ratio": (
            round(member["objects_per_s"] / admin["objects_per_s"], 4)
            if admin["objects_per_s"]
            else None
        ),
    }


def published_counts(hub: Hub) -> dict[str, int]:
    """What the worker has published: network IOCs and members' views (rows)."""
    with session_scope(hub.engine) as session:
        return {
            "network_iocs": session.execute(
                select(func.count()).select_from(NetworkIOC)
            ).scalar_one(),
            "views": session.execute(select(func.count()).select_from(NetworkView)).scalar_one(),
        }


def _measure(
    served: Served,
    readers: dict[str, TestMember],
    *,
    runs: int,
    read_deadline_s: float,
    publish_timeout_s: float,
) -> tuple[float | None, dict[str, int], Read, Read, dict[str, Any]]:
    """Right after serve started on a bulk-loaded store: the first read of ``submissions``
    (while the worker publishes the backlog), the wait for the worker, the first read of
    ``network``, then the alternating reads."""
    hub = served.hub
    submissions, network = objects_url(hub, SUBMISSIONS), objects_url(hub, NETWORK)
    member, admin = readers["member"], readers["admin"]
    with (
        client((member.name, member.token)) as as_member,
        client((admin.name, admin.token)) as as_admin,
    ):
        began = time.perf_counter()
        first_submissions = paged_read(as_member, submissions, deadline_s=read_deadline_s)
        waited = wait_published(hub, publish_timeout_s)
        caught_up = time.perf_counter() - began if waited is not None else None
        published = published_counts(hub)
        first_network = paged_read(as_member, network, deadline_s=read_deadline_s)
        reads = _reads(
            runs,
            {
                "submissions_member": (as_member, submissions),
                "submissions_admin": (as_admin, submissions),
                "network_member": (as_member, network),
            },
            read_deadline_s,
        )
    return caught_up, published, first_submissions, first_network, reads


def served_reads(
    store: CityStore,
    *,
    sizes: tuple[int, ...],
    runs: int,
    read_deadline_s: float,
    publish_timeout_s: float,
) -> dict[str, Any]:
    """The reads at each size of ``store`` (shared with the lookup: ``bench/stores.py``)."""
    rows: list[dict[str, Any]] = []
    hub = store.hub
    readers = {"member": store.reader, "admin": store.admin}
    for size in sorted(sizes):
        fill = store.grow(size, section="reads")  # serve is stopped: a bulk load
        started = time.perf_counter()
        with serving(hub) as served:
            start_s = time.perf_counter() - started
            measured = _measure(
                served,
                readers,
                runs=runs,
                read_deadline_s=read_deadline_s,
                publish_timeout_s=publish_timeout_s,
            )
        rows.append({**_row(size, fill, *measured), "serve_start_s": round(start_s, 2)})
        print(f"  {size:,} stored reports measured", flush=True)
    return {
        "members": len(store.members),
        "reader": READER,
        "overlap": store.reporter.overlap,
        "sizes": rows,
    }
