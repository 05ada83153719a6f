"""The network scenarios: signed ingest with and without dedup, publication of the network
view, and reads under a sharing policy.

Objects are realistic city reports (:func:`bench.stix.reports`): TLP-marked, ~600 bytes of
signed content, and a share of them repeating IOCs another member already reported, spelt
differently, so dedup has real corroboration to record.
"""

from __future__ import annotations

import random
import statistics
import time
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import func, select

from bench.hubs import network_context, objects_url, running_hub, settle, store
from bench.measure import Ingest, Read, client, ingest_interleaved, paged_read
from bench.stix import IOC, reports
from cityshield.db import session_scope
from cityshield.dedup.hub_context import HubContext
from cityshield.dedup.models import PendingIOC
from cityshield.dedup.service import publish_pending
from cityshield.flows.policy import load_policy_files
from cityshield.store.collections import NETWORK_ALIAS, SUBMISSIONS_ALIAS, collection_id_for
from tests.utils.server import Hub, TestMember

ENVELOPE = 500
SUBMISSIONS = collection_id_for(SUBMISSIONS_ALIAS)
NETWORK = collection_id_for(NETWORK_ALIAS)

CITIES = {
    "north": ["northport", "riverton", "hillcrest", "eastvale"],
    "south": ["lakeside", "southbay", "westport", "bayview"],
}
READER = "lakeside"
POLICY = """\
# The benchmark's sharing policy (bench/network.py): one allow for a group, one deny for a
# member, a third group from the policy file.
version: 1
default_marking: amber
groups:
  water-utility: [northport, lakeside, bayview]
rules:
  - name: north shares AMBER with the water-utility group
    from: {groups: [north]}
    markings: [amber]
    allow: {groups: [water-utility]}
  - name: lakeside never receives riverton's AMBER
    from: {members: [riverton]}
    markings: [amber]
    deny: {members: [lakeside]}
"""


def publish_all(hub: Hub, context: HubContext) -> dict[str, Any]:
    """Run ``publish_pending`` in-process, as serve's loop does, until the queue is empty.

    Returns the network indicators published per second of ``publish_pending``. IOCs with
    nothing countable (only RED reports) are cleared without a publication, so calls are
    repeated while queued IOCs remain, not until a call returns 0.
    """
    queued_query = select(func.count()).select_from(PendingIOC)
    with session_scope(hub.engine) as session:
        queued = int(session.execute(queued_query).scalar_one())
    published = calls = 0
    seconds = 0.0
    remaining = queued
    while remaining and calls < 1000:
        start = time.perf_counter()
        with session_scope(hub.engine) as session:
            published += publish_pending(session, context=context)
        seconds += time.perf_counter() - start
        calls += 1
        with session_scope(hub.engine) as session:
            remaining = int(session.execute(queued_query).scalar_one())
    return {
        "queued_iocs": queued,
        "published": published,
        "calls": calls,
        "seconds": round(seconds, 3),
        "published_per_s": round(published / seconds) if seconds else 0,
    }


# --------------------------------------------------------------------------------------------
# Signed ingest, with and without dedup


def signed_ingest(
    backend: str, url: str, *, envelopes: int, overlap: float, seed: int = 2101
) -> dict[str, Any]:
    """The same shape of envelopes over HTTP into a plain writable collection and into
    ``submissions`` (which feeds dedup), alternating envelope by envelope so both see the
    same machine load; then ``publish_pending`` in-process over what ``submissions`` took.

    A share ``overlap`` of every envelope repeats IOCs another member already reported
    (and the network view already published), upper-cased or with ``/32``. Both
    collections start with the same number of objects, so the difference is dedup's alone.
    """
    rng = random.Random(seed)
    repeats = round(ENVELOPE * overlap)
    count = envelopes + 1  # per collection; the first is a warm-up
    with running_hub(backend, url) as hub:
        context = network_context(hub)
        reporter = hub.member(name="northport", groups=["north"])
        poster = hub.member(name="lakeside", groups=["south"])
        plain = hub.collection()
        earlier, pool = reports(
            reporter, 2 * count * repeats, rng, repeats=[], recipients=[poster.identity_id]
        )
        for start in range(0, len(earlier), 5_000):
            store(hub, reporter, SUBMISSIONS, earlier[start : start + 5_000], context)
        publish_all(hub, context)  # those IOCs are in the network view before we start
        # The plain collection holds as many objects, so both pay the same index depth.
        same_size, _ = reports(
            reporter, len(earlier), rng, repeats=[], recipients=[poster.identity_id]
        )
        for start in range(0, len(same_size), 5_000):
            store(hub, reporter, plain, same_size[start : start + 5_000], context)
        settle(hub)
        bodies: dict[str, list[bytes]] = {"plain": [], "submissions": []}
        for i in range(2 * count):
            objects, _ = reports(
                poster,
                ENVELOPE,
                rng,
                repeats=pool[i * repeats : (i + 1) * repeats],
                recipients=[reporter.identity_id],
            )
            bodies["plain" if i % 2 == 0 else "submissions"].append(
                orjson.dumps({"objects": objects})
            )
        urls = {"plain": objects_url(hub, plain), "submissions": objects_url(hub, SUBMISSIONS)}
        with client((poster.name, poster.token)) as http:
            warm = ingest_interleaved(http, {k: (urls[k], bodies[k][:1]) for k in urls})
            timed = ingest_interleaved(http, {k: (urls[k], bodies[k][1:]) for k in urls})
        published = publish_all(hub, context)
    for name, done in timed.items():
        done.first_envelope_s = warm[name].seconds
    return {
        "envelopes": envelopes,
        "envelope_objects": ENVELOPE,
        "overlap": overlap,
        "plain": timed["plain"].as_dict(),
        "submissions": timed["submissions"].as_dict(),
        "dedup_overhead": _overhead(timed["plain"], timed["submissions"]),
        "dedup_overhead_median_envelope": _median_overhead(timed["plain"], timed["submissions"]),
        "publish": published,
    }


def _overhead(plain: Ingest, dedup: Ingest) -> float | None:
    """Extra time per object of ingest into ``submissions`` over a plain collection."""
    if not plain.rate or not dedup.rate:
        return None
    return round(plain.rate / dedup.rate - 1, 4)


def _median_overhead(plain: Ingest, dedup: Ingest) -> float | None:
    """The same from the median envelope time of each: a check that a burst of other work
    during a few envelopes did not decide the figure."""
    if not plain.envelope_s or not dedup.envelope_s:
        return None
    return round(statistics.median(dedup.envelope_s) / statistics.median(plain.envelope_s) - 1, 4)


# --------------------------------------------------------------------------------------------
# Reads under a sharing policy


def policy_reads(
    backend: str,
    url: str,
    workdir: Path,
    *,
    size: int,
    overlap: float,
    repeats: int,
    network_deadline_s: float,
    batch: int = 1_000,
    seed: int = 1918,
) -> dict[str, Any]:
    """A ``submissions`` store of ``size`` reports from eight members in two groups (a
    third from the policy file) with mixed TLP, filled in-process through ``add_objects``
    with the network context; then :data:`POLICY` is loaded, the network view published,
    and paged reads timed over HTTP as an ordinary member and as an admin."""
    rng = random.Random(seed)
    with running_hub(backend, url) as hub:
        context = network_context(hub)
        members = {
            name: hub.member(name=name, groups=[group])
            for group, names in CITIES.items()
            for name in names
        }
        admin = hub.member(role="admin", name="hub-admin")
        path = workdir / "bench-policy.yaml"
        path.write_text(POLICY)
        with session_scope(hub.engine) as session:
            load_policy_files(session, [path])
        fill = _fill(hub, members, context, rng, size=size, overlap=overlap, batch=batch)
        published = publish_all(hub, context)
        settle(hub)
        reader = members[READER]
        with (
            client((reader.name, reader.token)) as as_member,
            client((admin.name, admin.token)) as as_admin,
        ):
            url_of = objects_url(hub, SUBMISSIONS)
            for http in (as_member, as_admin):
                paged_read(http, url_of, max_pages=1)  # warm connections and caches
            runs: dict[str, list[Read]] = {"member": [], "admin": []}
            for _ in range(repeats):  # alternate, so both see the same machine load
                runs["member"].append(paged_read(as_member, url_of))
                runs["admin"].append(paged_read(as_admin, url_of))
            filtered, unfiltered = (_median(runs[k]) for k in ("member", "admin"))
            assert unfiltered.objects == size, unfiltered
            network_url = objects_url(hub, NETWORK)
            network = {
                who: paged_read(http, network_url, deadline_s=network_deadline_s)
                for who, http in (("member", as_member), ("admin", as_admin))
            }
    ratio = filtered.rate / unfiltered.rate if unfiltered.rate else 0.0
    return {
        "size": size,
        "members": len(members),
        "overlap": overlap,
        "reader": READER,
        "policy": POLICY,
        "fill": fill,
        "publish": published,
        "submissions": {"member": filtered.as_dict(), "admin": unfiltered.as_dict()},
        "filtered_ratio": round(ratio, 4),
        "network": {who: _partial(read) for who, read in network.items()},
    }


def _fill(
    hub: Hub,
    members: dict[str, TestMember],
    context: HubContext,
    rng: random.Random,
    *,
    size: int,
    overlap: float,
    batch: int,
) -> dict[str, Any]:
    """Round-robin batches of reports, one member per batch; a share ``overlap`` of each
    batch repeats IOCs other members reported earlier. Only ``add_objects`` is timed."""
    names = list(members)
    identities = {name: m.identity_id for name, m in members.items()}
    reported: list[tuple[str, IOC]] = []
    seconds = 0.0
    for index, start in enumerate(range(0, size, batch)):
        name = names[index % len(names)]
        count = min(batch, size - start)
        picks = rng.sample(reported, min(len(reported), 2 * round(count * overlap)))
        repeats = [ioc for owner, ioc in picks if owner != name][: round(count * overlap)]
        recipients = [identity for other, identity in identities.items() if other != name]
        objects, fresh = reports(members[name], count, rng, repeats=repeats, recipients=recipients)
        began = time.perf_counter()
        store(hub, members[name], SUBMISSIONS, objects, context)
        seconds += time.perf_counter() - began
        reported.extend((name, ioc) for ioc in fresh)
    return {
        "objects": size,
        "batch": batch,
        "seconds": round(seconds, 2),
        "objects_per_s": round(size / seconds) if seconds else 0,
    }


def _median(runs: list[Read]) -> Read:
    return sorted(runs, key=lambda run: run.seconds)[len(runs) // 2]


def _partial(read: Read) -> dict[str, Any]:
    """A read that may have hit its deadline: the rate is over what came back in time."""
    figures = read.as_dict()
    if read.timed_out and read.seconds:
        figures["objects_per_s"] = round(read.objects / read.seconds)
        figures["ms_per_page"] = round(1000 * read.seconds / read.pages, 2) if read.pages else 0
    return figures
