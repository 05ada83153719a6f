"""Section 7: a firewall's list as served (issue 13's benchmark): the whole EDL of 300,000
values, and the 304 a device gets when it pulls again and nothing changed.

One hub with the eight cities of ``bench.network.CITIES`` and :data:`bench.network.POLICY`.
Its ``submissions`` is bulk-loaded in-process (``bench.network.Reporter``, the reads
section's round-robin fill, serve stopped) with TLP:GREEN reports of ``values`` distinct
IPv4 addresses (the EDL's default type; :func:`bench.stix.scattered_ipv4`, spread over
100.64.0.0/10 as real lists are), then with reports that only repeat addresses other cities
reported (``overlap`` of ``values``, in another spelling), so the list has corroboration to
order ``max`` by. Then ``cityshield serve`` starts and its worker publishes every city's
views. Member ``lakeside`` may see every report, so its EDL holds exactly ``values`` lines.

Timed over HTTP from the request to the whole body read (lines counted), ``runs`` times
each, alternating so every variant sees the same machine load: ``GET /api/v1/export/edl``
(all of it), with ``max`` (a PAN-OS-sized cut: the most corroborated first) and with
``collapse=true`` (CIDR blocks); then ``If-None-Match`` with the whole list's ETag,
``not_modified_runs`` times (304 expected).
"""

from __future__ import annotations

import random
import statistics
import time
from pathlib import Path
from typing import Any

import httpx

from bench.hubs import network_context, wait_published
from bench.measure import Phases, quiet_client_gc
from bench.network import READER, Reporter, add_cities, load_policy
from bench.served import initialised_hub, serving
from bench.served_reads import published_counts
from bench.stix import scattered_ipv4s

GREEN_ONLY = (("green", 1.0),)
EDL = "/api/v1/export/edl"
SEED = 1913


def _get(http: httpx.Client, url: str, params: dict[str, str], headers: dict[str, str]) -> Any:
    """One timed request: seconds, the answer, and the lines of its body."""
    began = time.perf_counter()
    response = http.get(url, params=params, headers=headers)
    lines = response.content.count(b"\n")
    return time.perf_counter() - began, response, lines


def _figures(timings: list[float], response: httpx.Response, lines: int) -> dict[str, Any]:
    headers = response.headers
    return {
        "runs": len(timings),
        "median_s": round(statistics.median(timings), 4),
        "min_s": round(min(timings), 4),
        "max_s": round(max(timings), 4),
        "runs_s": [round(t, 4) for t in timings],
        "status": response.status_code,
        "bytes": len(response.content),
        "lines": lines,
        "total": headers.get("X-CityShield-Total"),
        "count": headers.get("X-CityShield-Count"),
        "truncated": headers.get("X-CityShield-Truncated"),
        "etag": headers.get("ETag"),
    }


def timed_lists(
    http: httpx.Client,
    url: str,
    variants: dict[str, dict[str, str]],
    runs: int,
    headers: dict[str, str] | None = None,
) -> dict[str, dict[str, Any]]:
    """Each variant's query ``runs`` times, alternating; the last answer of each is kept
    for its status, size and headers."""
    timings: dict[str, list[float]] = {name: [] for name in variants}
    last: dict[str, tuple[httpx.Response, int]] = {}
    quiet_client_gc()
    for _ in range(runs):
        for name, params in variants.items():
            seconds, response, lines = _get(http, url, params, headers or {})
            timings[name].append(seconds)
            last[name] = (response, lines)
    return {name: _figures(timings[name], *last[name]) for name in variants}


def served_exports(
    backend: str,
    url: str,
    workdir: Path,
    *,
    values: int,
    overlap: float,
    cut: int,
    runs: int,
    not_modified_runs: int,
    publish_timeout_s: float,
) -> dict[str, Any]:
    phases = Phases()
    with initialised_hub(backend, url, workdir=workdir) as hub:
        members = add_cities(hub)
        load_policy(hub, workdir)
        reporter = Reporter(
            hub,
            members,
            network_context(hub),
            random.Random(SEED),
            0.0,
            mix=GREEN_ONLY,
            fresh_source=scattered_ipv4s(),
        )
        fill = reporter.fill(values)  # every report a new address: exactly ``values``
        reporter.overlap = 1.0  # then only corroboration: no new address
        corroboration = reporter.fill(round(values * overlap))
        reader = members[READER]
        phases.mark("fill")
        with (
            serving(hub) as served,
            httpx.Client(auth=(reader.name, reader.token), timeout=600) as http,
        ):
            published = wait_published(hub, publish_timeout_s)
            counts = published_counts(hub)
            phases.mark("publication")
            endpoint = served.hub.base_url + EDL
            lists = timed_lists(
                http,
                endpoint,
                {"whole": {}, "capped": {"max": str(cut)}, "collapse": {"collapse": "true"}},
                runs,
            )
            etag = lists["whole"]["etag"] or ""
            not_modified = timed_lists(
                http, endpoint, {"whole": {}}, not_modified_runs, {"If-None-Match": etag}
            )["whole"]
            phases.mark("exports")
    return {
        "values": values,
        "members": len(members),
        "reader": READER,
        "fill": fill,
        "corroboration_fill": corroboration,
        "published_s": None if published is None else round(published, 2),
        "published": counts,
        "max": cut,
        **lists,
        "not_modified": not_modified,
        "phases_s": phases.seconds,
    }
