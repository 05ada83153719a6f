"""What this machine can do at best, measured in the same run as the hub figures.

The hub cannot insert faster than its database takes the same rows (its own migrated
schema, raw driver, one batch, one transaction), nor serve pages faster than uvicorn
returns a static body of the same size, nor take signed objects faster than it can
canonicalise and verify them.
"""

from __future__ import annotations

import os
import random
import sqlite3
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import rfc8785
from sqlalchemy import Engine

from bench.measure import PAGE, client
from bench.servers import child_server
from bench.stix import indicators, reports, signed_indicators
from cityshield.config import Settings
from cityshield.db import make_engine
from cityshield.migrate import upgrade
from cityshield.signing.jcs import canonical_json
from cityshield.signing.jwk import b64url_decode
from cityshield.signing.keys import generate_private_key
from cityshield.signing.scheme import SIGNATURE_EXTENSION_ID, sign_object
from cityshield.store.models import StixObject
from cityshield.timefmt import parse_timestamp
from tests.utils.server import Hub, TestMember


def _rows(engine: Engine, count: int) -> tuple[list[str], list[dict[str, Any]]]:
    """Columns and rows for the hub's own ``stix_object`` table, bodies signed as at
    ingest; a real member and collection are created so foreign keys hold."""
    hub = Hub("ceiling", Settings(environment="test"), engine, "")
    member, collection_id = hub.member(), hub.collection()
    columns = [c.name for c in StixObject.__table__.columns if c.name != "pk"]  # type: ignore[attr-defined]
    rows = []
    for i, obj in enumerate(signed_indicators(member, count)):
        values = {
            "collection_id": collection_id,
            "object_id": obj["id"],
            "type": obj["type"],
            "spec_version": "2.1",
            "version_us": parse_timestamp(obj["modified"]),
            "date_added_us": 1_800_000_000_000_000 + i,
            "is_first": True,
            "is_latest": True,
            "submitter_id": member.member_id,
            "kid": obj["extensions"][SIGNATURE_EXTENSION_ID]["kid"],
            "body": orjson.dumps(obj).decode(),
        }
        rows.append({name: values.get(name) for name in columns})
    return columns, rows


def _insert(columns: list[str], mark: str) -> str:
    """INSERT text with ``mark`` formatted per column (``:{}`` or ``%({})s``)."""
    marks = ", ".join(mark.format(name) for name in columns)
    return f"INSERT INTO stix_object ({', '.join(columns)}) VALUES ({marks})"


def _migrated(url: str, count: int) -> tuple[list[str], list[dict[str, Any]]]:
    engine = make_engine(url)
    try:
        upgrade(engine)
        return _rows(engine, count)
    finally:
        engine.dispose()


def sqlite_insert(workdir: Path, count: int) -> dict[str, Any]:
    """Raw sqlite3 executemany into the hub's schema, one transaction, the hub's pragmas."""
    path = workdir / "ceiling.db"
    path.unlink(missing_ok=True)
    columns, rows = _migrated(f"sqlite:///{path}", count)
    conn = sqlite3.connect(path)
    for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL"):
        conn.execute(f"PRAGMA {pragma}")
    start = time.perf_counter()
    with conn:
        conn.executemany(_insert(columns, ":{}"), rows)
    seconds = time.perf_counter() - start
    conn.close()
    return {"rows": count, "seconds": seconds, "rows_per_s": round(count / seconds)}


def postgres_insert(url: str, count: int) -> dict[str, Any]:
    """psycopg executemany into the hub's schema, one transaction."""
    import psycopg

    columns, rows = _migrated(url, count)
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        start = time.perf_counter()
        with conn.cursor() as cursor:
            cursor.executemany(_insert(columns, "%({})s"), rows)
        conn.commit()
        seconds = time.perf_counter() - start
    return {"rows": count, "seconds": seconds, "rows_per_s": round(count / seconds)}


def page_serving(workdir: Path, rounds: int) -> dict[str, Any]:
    """Median time to join a page of pre-serialised bodies, plus a static round trip.

    The round trip includes the client parsing the page, as in the hub read figures.
    """
    key = generate_private_key()
    bodies = [orjson.dumps(sign_object(o, key)).decode() for o in indicators(PAGE)]
    joins = []
    for _ in range(rounds):
        start = time.perf_counter()
        page = '{"more":true,"next":"x","objects":[' + ",".join(bodies) + "]}"
        joins.append(time.perf_counter() - start)
    path = workdir / "page.json"
    path.write_bytes(page.encode())
    trips = []
    with child_server("static", str(path)) as server, client(("x", "x")) as http:
        base_url = server["base_url"]
        http.get(base_url).raise_for_status()
        for _ in range(rounds):
            start = time.perf_counter()
            response = http.get(base_url)
            assert len(orjson.loads(response.content)["objects"]) == PAGE
            trips.append(time.perf_counter() - start)
    join_s, trip_s = statistics.median(joins), statistics.median(trips)
    return {
        "page_bytes": len(page),
        "join_ms": round(join_s * 1000, 3),
        "round_trip_ms": round(trip_s * 1000, 3),
        "objects_per_s": round(PAGE / (join_s + trip_s)),
    }


def _signed_content(obj: dict[str, Any]) -> dict[str, Any]:
    """The object without its signature entry: what the hub canonicalises to verify it."""
    view = {k: v for k, v in obj.items() if k != "extensions"}
    rest = {k: v for k, v in obj["extensions"].items() if k != SIGNATURE_EXTENSION_ID}
    return {**view, "extensions": rest} if rest else view


def _per_second(count: int, work: Callable[[], object], rounds: int) -> float:
    """``count`` items over the median time of ``rounds`` passes of ``work``."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return count / statistics.median(times)


def signature_work(count: int, rounds: int = 3) -> dict[str, Any]:
    """Per-object signature costs on one core (this process, one thread), on realistic
    signed reports: Ed25519 verification of their ~600-byte signed content, and RFC 8785
    canonicalisation of that content by the ``rfc8785`` package and by the hub's
    ``canonical_json`` (orjson fast path). ``both_cores_objects_per_s`` is what verify plus
    canonical_json allow with every core busy on nothing else: the most signed ingest could
    reach if signature work were all it did."""
    key = generate_private_key()
    member = TestMember("city", "identity--4a6f7e4e-8a59-4c3b-9d0e-5b4c6a1f2e3d", "", key, 0)
    rng = random.Random(8785)
    others = ["identity--1d5c9b7a-3e2f-4a6b-8c9d-0e1f2a3b4c5d"]
    objects, _ = reports(member, count, rng, repeats=[], recipients=others)
    views = [_signed_content(obj) for obj in objects]
    messages = [canonical_json(view) for view in views]
    signatures = [b64url_decode(o["extensions"][SIGNATURE_EXTENSION_ID]["sig"]) for o in objects]
    public = key.public_key()

    def verify() -> None:
        for signature, message in zip(signatures, messages, strict=True):
            public.verify(signature, message)

    verify_s = _per_second(count, verify, rounds)
    reference_s = _per_second(count, lambda: [rfc8785.dumps(v) for v in views], rounds)
    fast_s = _per_second(count, lambda: [canonical_json(v) for v in views], rounds)
    assert all(rfc8785.dumps(v) == m for v, m in zip(views, messages, strict=True))
    cores = os.cpu_count() or 1
    return {
        "objects": count,
        "message_bytes": round(statistics.mean(len(m) for m in messages)),
        "verify_per_s": round(verify_s),
        "rfc8785_per_s": round(reference_s),
        "canonical_json_per_s": round(fast_s),
        "cores": cores,
        "both_cores_objects_per_s": round(cores / (1 / verify_s + 1 / fast_s)),
    }


def measure(
    backend: str,
    new_db: Callable[[], str],
    workdir: Path,
    *,
    rows: int,
    rounds: int,
    signature_objects: int,
) -> dict[str, Any]:
    """Every ceiling of this machine for the chosen backend, in one section."""
    result = {
        "sqlite_insert": sqlite_insert(workdir, rows),
        "page": page_serving(workdir, rounds),
        "signatures": signature_work(signature_objects),
    }
    if backend == "postgres":
        result["postgres_insert"] = postgres_insert(new_db(), rows)
    return result
