"""Section 6: import of a large ``text`` feed by the served worker (issue 13's benchmark).

A feed is pulled as an operator sets one up: a deterministic list of ``lines`` values (one
observable type, as a ``text`` feed has: ``ipv4-addr`` by default, ``domain-name`` with
``--feed-type``) is served with an ``ETag`` and a ``Last-Modified`` by a real HTTP server on
127.0.0.1 (``tests/utils/feedserver.py``), and its definition (``interval: 1d``,
``tlp: clear``) is written into the ``CITYSHIELD_FEEDS_DIR`` of a hub with the eight cities
of ``bench.network.CITIES``, an admin and the policy, while ``cityshield serve`` runs. The
worker reads the directory every ``CITYSHIELD_FEED_POLL_SECONDS`` (set to 1 here rather
than 60, so the pull starts within a second of the file appearing; nothing else about the
pull changes) and pulls the feed through the one ingest path, each value signed by the
feed's key and verified again, in batches of 500, while its publication thread builds the
network indicators and the cities' views of what it ingests.

Measured: the pull from its start to every value stored (the feed's health over HTTP:
``last_started`` to ``last_finished``, ``added``), objects/s; the worker process's memory
high-water mark (``VmHWM``, reset once the worker is up and idle, read when the pull has
finished and again once the network view is published: the publisher runs in the same
process); the wait from the pull's end until the worker has published every value's network
indicator and views; then the second pull, ``cityshield feeds run NAME`` as an operator
runs it ("pull now"), answered 304: nothing downloaded, nothing to do, with its own time
(health) and the command's wall time and peak memory.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import orjson
from sqlalchemy import select
from sqlmodel import col

from bench.hubs import wait_published
from bench.measure import Phases
from bench.memory import MIB, reset_peak, vm_status
from bench.network import add_cities, load_policy
from bench.served import initialised_hub, run_command, serving
from bench.served_reads import published_counts
from bench.stix import scattered_ipv4
from cityshield.db import session_scope
from cityshield.feeds.models import Feed
from cityshield.timefmt import parse_timestamp
from tests.utils.feeds import define, text_feed
from tests.utils.feedserver import FeedServer
from tests.utils.server import Hub

FEED = "bench-list"
FEED_TYPES = ("ipv4-addr", "domain-name")
POLL_S = 0.2


def feed_value(n: int, kind: str) -> str:
    """Value number ``n`` of a list of ``kind``: unique per ``n``, the same in every run."""
    if kind == "ipv4-addr":
        return scattered_ipv4(n)
    if kind == "domain-name":
        return f"cdn-{n:06x}.bench-feed.example"
    raise ValueError(f"no values of type {kind!r}; one of {', '.join(FEED_TYPES)}")


def feed_lines(count: int, kind: str) -> bytes:
    """A ``text`` feed's body as block lists publish them: comment lines, then ``count``
    distinct values of ``kind``, one per line."""
    head = f"# cityshield benchmark feed: {count} {kind} values, one per line\n#\n"
    return (head + "".join(f"{feed_value(n, kind)}\n" for n in range(count))).encode()


def _pull_times(hub: Hub) -> tuple[int | None, int | None]:
    """The feed's last start and finish (epoch microseconds), None before there is one."""
    query = select(col(Feed.started_us), col(Feed.finished_us)).where(col(Feed.name) == FEED)
    with session_scope(hub.engine) as session:
        row = session.execute(query).first()
    return (None, None) if row is None else (row[0], row[1])


def wait_pulled(hub: Hub, timeout_s: float) -> bool:
    """Until the feed's pull has finished (its row says so: a cheap probe, unlike the
    health's count of every value it vouches for); False on timeout."""
    deadline = time.perf_counter() + timeout_s
    while time.perf_counter() < deadline:
        started, finished = _pull_times(hub)
        if started is not None and finished is not None and finished >= started:
            return True
        time.sleep(POLL_S)
    return False


def _health(http: httpx.Client, base_url: str) -> dict[str, Any]:
    response = http.get(f"{base_url}/api/v1/feeds/{FEED}")
    response.raise_for_status()
    health: dict[str, Any] = response.json()
    return health


def pull_seconds(health: dict[str, Any]) -> float | None:
    """From the pull's start to its end, as its health says."""
    if not (health.get("last_started") and health.get("last_finished")):
        return None
    began, ended = parse_timestamp(health["last_started"]), parse_timestamp(health["last_finished"])
    return (ended - began) / 1e6


def _pull_figures(health: dict[str, Any]) -> dict[str, Any]:
    seconds = pull_seconds(health)
    return {
        "seconds": None if seconds is None else round(seconds, 3),
        "objects_per_s": round(health["added"] / seconds) if seconds and health["added"] else None,
        **{k: health.get(k) for k in ("added", "rejected", "vouched", "not_modified", "ok")},
        "problems": health.get("problems", [])[:3],
        "error": health.get("last_error"),
    }


def _mb(value: int) -> float:
    return round(value / MIB, 1)


def _memory(idle: int, at_pull_end: int, after_publication: int, lines: int) -> dict[str, Any]:
    return {
        "worker_idle_mb": _mb(idle),
        "peak_mb": _mb(at_pull_end),
        "peak_above_idle_mb": _mb(at_pull_end - idle),
        "bytes_per_value": round((at_pull_end - idle) / lines) if lines else None,
        "peak_after_publication_mb": _mb(after_publication),
    }


def _second_pull(hub: Hub, environment: dict[str, str], timeout_s: float) -> dict[str, Any]:
    """``cityshield feeds run NAME``: the list is unchanged, so the hub's ``If-None-Match``
    gets a 304."""
    command = run_command(hub, ["feeds", "run", FEED], timeout_s=timeout_s, environment=environment)
    try:
        answer = orjson.loads(command.stdout)[0]
    except (orjson.JSONDecodeError, IndexError):
        answer = {"error": f"exit {command.returncode}: {command.stdout[:300]!r}"}
    return {
        "command_s": round(command.seconds, 3),
        "command_peak_mb": _mb(command.peak_rss_bytes),
        "returncode": command.returncode,
        **{k: answer.get(k) for k in ("not_modified", "added", "withdrawn", "error")},
    }


def served_feed_import(
    backend: str,
    url: str,
    workdir: Path,
    *,
    lines: int,
    kind: str,
    timeout_s: float,
    publish_timeout_s: float,
) -> dict[str, Any]:
    phases = Phases()
    body = feed_lines(lines, kind)
    with initialised_hub(backend, url, workdir=workdir) as hub, FeedServer() as server:
        members = add_cities(hub)
        admin = hub.member(role="admin", name="hub-admin")
        load_policy(hub, workdir)
        feeds_dir = hub.settings.home / "feeds"
        feeds_dir.mkdir()
        environment = {
            "CITYSHIELD_FEEDS_DIR": str(feeds_dir),
            "CITYSHIELD_FEED_POLL_SECONDS": "1",
        }
        source = server.serve(f"{FEED}.txt", body)
        phases.mark("set-up")
        with (
            serving(hub, environment=environment) as served,
            httpx.Client(auth=(admin.name, admin.token), timeout=120) as http,
        ):
            worker = served.worker_pids[0]
            idle = vm_status(worker)["VmRSS"]
            resettable = reset_peak(worker)
            phases.mark("serve")
            dropped = time.perf_counter()
            define(feeds_dir, text_feed(FEED, source, type=kind, interval="1d"))
            pulled = wait_pulled(hub, timeout_s)
            observed = time.perf_counter() - dropped
            at_pull_end = vm_status(worker)["VmHWM"]
            first = _health(http, served.hub.base_url)
            phases.mark("pull")
            published = wait_published(hub, publish_timeout_s)
            after_publication = vm_status(worker)["VmHWM"]
            counts = published_counts(hub)
            phases.mark("publication")
            if pulled:  # else the worker still holds the feed: no second pull to time
                second = _second_pull(hub, environment, timeout_s)
                again = {**_pull_figures(_health(http, served.hub.base_url)), **second}
            else:
                again = {"error": f"skipped: the first pull took over {timeout_s:.0f} s"}
            phases.mark("second pull")
    return {
        "type": kind,
        "lines": lines,
        "bytes": len(body),
        "members": len(members),
        "pull": {
            **_pull_figures(first),
            "finished": pulled,
            "file_to_finished_s": round(observed, 2),
        },
        "memory": {**_memory(idle, at_pull_end, after_publication, lines), "reset": resettable},
        "published_s": None if published is None else round(published, 2),
        "published": counts,
        "not_modified": again,
        "phases_s": phases.seconds,
        "statuses": server.statuses(f"{FEED}.txt"),
    }
