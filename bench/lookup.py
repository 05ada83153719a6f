"""Section 5: bulk lookup as served (``POST /api/v1/lookup``), the analyst's "has anyone
seen any of these?" for 10,000 pasted values against a large store.

One hub with the eight cities of ``bench.network.CITIES`` and :data:`bench.network.POLICY`,
its ``submissions`` filled to ``size`` reports through the hub's own ingest path in-process
(``bench.network.Reporter``, the reads section's bulk load: 30% of reports repeat IOCs other
cities reported, TLP mix of ``bench.stix.TLP_MIX``) -- the very store the reads section
filled, when it ran first (``bench/stores.py``) -- then ``cityshield serve`` on it, the
worker's backlog published. A request is ``values`` values, half of them reported IOCs in
another spelling (defanged, upper-case, ``/32``), half never reported; it is POSTed
``runs`` times as member ``lakeside`` (its sharing policy applied: RED and other regions'
AMBER reports do not make a value known), each timed from send to the whole answer.
"""

from __future__ import annotations

import random
import statistics
import time
from typing import Any

import orjson

from bench.hubs import wait_published
from bench.measure import client
from bench.served import serving
from bench.stix import IOC, fresh_ioc
from bench.stores import CityStore

SPELLINGS = ("defanged", "upper", "cidr")


def spelled(ioc: IOC, how: str) -> str:
    """A reported IOC as an analyst might paste it."""
    kind, value = ioc
    if how == "defanged":
        return value.replace(".", "[.]")
    if how == "cidr" and kind == "ipv4":
        return f"{value}/32"
    return value.upper()


def lookup_values(reported: list[IOC], count: int, rng: random.Random) -> list[str]:
    """``count`` values, half from ``reported`` (respelled), half never reported, shuffled."""
    known = rng.sample(reported, min(len(reported), count // 2))
    values = [spelled(ioc, rng.choice(SPELLINGS)) for ioc in known]
    values += [fresh_ioc()[1] for _ in range(count - len(values))]
    rng.shuffle(values)
    return values


def served_lookup(
    store: CityStore,
    *,
    size: int,
    values: int,
    runs: int,
    publish_timeout_s: float,
    seed: int = 1914,
) -> dict[str, Any]:
    """The lookup against ``store`` grown to ``size`` reports (shared with the reads:
    ``bench/stores.py``; a store the reads already filled and published is not filled
    again)."""
    rng = random.Random(seed)
    fill = store.grow(size, section="lookup")
    reader = store.reader
    reported = [ioc for _, ioc in store.reporter.reported]
    body = orjson.dumps({"values": lookup_values(reported, values, rng)})
    with serving(store.hub) as served:
        published_s = wait_published(served.hub, publish_timeout_s)
        timings: list[float] = []
        known = 0
        with client((reader.name, reader.token)) as http:
            endpoint = f"{served.hub.base_url}/api/v1/lookup"
            for _ in range(runs):
                began = time.perf_counter()
                response = http.post(
                    endpoint, content=body, headers={"Content-Type": "application/json"}
                )
                response.raise_for_status()
                answer = response.json()
                timings.append(time.perf_counter() - began)
                known = answer["known"]
    timings.sort()
    return {
        "size": size,
        "values": values,
        "runs": runs,
        "fill": fill,
        "filled_by": store.filled_by,
        "published_s": None if published_s is None else round(published_s, 2),
        "known": known,
        "median_s": round(statistics.median(timings), 3),
        "p95_s": round(timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))], 3),
        "max_s": round(timings[-1], 3),
    }
