"""The benchmark's feed and export helpers: the generated list is what the hub's own list
parser accepts, line for line; scattered addresses are unique and stay in 100.64.0.0/10;
a pull's duration comes from its health; and the printed tables render a result."""

from __future__ import annotations

import ipaddress
import itertools
from typing import Any

import pytest

from bench.feeds_import import feed_lines, feed_value, pull_seconds
from bench.report import exports_table, feeds_table
from bench.stix import SHARED_SPACE, scattered_ipv4, scattered_ipv4s
from cityshield.feeds.definition import FeedDefinition
from cityshield.feeds.lists import parse_list


def definition(kind: str) -> FeedDefinition:
    return FeedDefinition.model_validate(
        {
            "name": "bench-list",
            "kind": "text",
            "url": "http://127.0.0.1:1/list.txt",
            "interval": "1d",
            "tlp": "clear",
            "confidence": 70,
            "type": kind,
        }
    )


@pytest.mark.parametrize("kind", ["ipv4-addr", "domain-name"])
def test_every_generated_line_is_a_distinct_value_the_hub_accepts(kind: str) -> None:
    body = feed_lines(5_000, kind)
    listed = parse_list(definition(kind), body)
    assert (listed.lines, len(listed.keys), listed.rejected) == (5_000, 5_000, 0)
    assert body.startswith(b"# ") and body.endswith(b"\n")
    assert feed_lines(5_000, kind) == body  # deterministic


def test_an_unknown_feed_type_is_refused() -> None:
    with pytest.raises(ValueError, match="url"):
        feed_value(1, "url")


def test_scattered_addresses_are_unique_spread_and_in_the_shared_space() -> None:
    count = 200_000
    addresses = [scattered_ipv4(n) for n in range(count)]
    assert len(set(addresses)) == count
    assert all(ipaddress.IPv4Address(a) in SHARED_SPACE for a in addresses[:1000])
    numbers = sorted(int(ipaddress.IPv4Address(a)) for a in addresses)
    neighbours = sum(1 for a, b in itertools.pairwise(numbers) if b == a + 1)
    assert neighbours < count // 10  # not a run of consecutive addresses
    assert scattered_ipv4(SHARED_SPACE.num_addresses - 1) != scattered_ipv4(0)
    with pytest.raises(ValueError):
        scattered_ipv4(SHARED_SPACE.num_addresses)


def test_a_source_of_fresh_addresses_starts_where_asked_and_never_repeats() -> None:
    fresh = scattered_ipv4s(10)
    assert [fresh() for _ in range(3)] == [("ipv4", scattered_ipv4(n)) for n in (10, 11, 12)]


def test_a_pulls_duration_is_its_healths_start_to_finish() -> None:
    health = {"last_started": "2026-12-01T10:00:00.250Z", "last_finished": "2026-12-01T10:01:40Z"}
    assert pull_seconds(health) == 99.75
    assert pull_seconds({"last_started": None, "last_finished": None}) is None


def _list(status: int, lines: int) -> dict[str, Any]:
    return {
        "runs": 3,
        "median_s": 0.5,
        "min_s": 0.4,
        "max_s": 0.7,
        "status": status,
        "bytes": 14 * lines,
        "lines": lines,
    }


def test_the_tables_print_a_result() -> None:
    pull = {"seconds": 12.5, "objects_per_s": 1600, "added": 20_000, "rejected": 0}
    feeds = {
        "type": "ipv4-addr",
        "lines": 20_000,
        "bytes": 300_000,
        "members": 8,
        "pull": {**pull, "finished": True, "error": None},
        "memory": {
            "worker_idle_mb": 90.0,
            "peak_mb": 130.0,
            "peak_above_idle_mb": 40.0,
            "bytes_per_value": 2097,
            "peak_after_publication_mb": 140.0,
        },
        "published_s": 30.0,
        "published": {"network_iocs": 20_000, "views": 160_000},
        "not_modified": {
            "seconds": 0.2,
            "not_modified": True,
            "added": 0,
            "error": None,
            "command_s": 2.5,
            "command_peak_mb": 80.0,
        },
    }
    printed = feeds_table(feeds, "sqlite")
    assert "20,000-line text feed of ipv4-addr" in printed and "1,600 objects/s" in printed
    exports = {
        "reader": "lakeside",
        "values": 10_000,
        "max": 2_000,
        "whole": _list(200, 10_000),
        "capped": _list(200, 2_000),
        "collapse": _list(200, 9_000),
        "not_modified": {**_list(304, 0), "median_s": 0.002, "min_s": 0.001, "max_s": 0.003},
    }
    printed = exports_table(exports, "sqlite")
    assert "max=2,000" in printed and "If-None-Match" in printed and "2.0 ms" in printed
