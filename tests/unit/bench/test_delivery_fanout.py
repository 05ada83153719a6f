"""The delivery section's pure parts: what the receivers record and answer, the same
envelopes on two hubs, urgent reports signed with their mark, the latencies, the targets."""

from __future__ import annotations

import random
from typing import Any

import orjson
import pytest

from bench.fanout_hubs import Members, twin_envelopes
from bench.receivers import (
    Arrivals,
    complete_status,
    endpoint_url,
    notification_keys,
    object_keys,
    process_sizes,
)
from bench.targets import delivery_targets
from bench.urgent_latency import (
    arrival_latencies,
    background_envelopes,
    slowest,
    urgent_report,
)
from cityshield.dedup.publish import CORROBORATION_EXTENSION_ID
from cityshield.delivery.urgent import URGENT_PROPERTY
from cityshield.signing.errors import SignatureError
from cityshield.signing.keys import generate_private_key
from cityshield.signing.scheme import verify_object
from tests.utils.server import TestMember


def _member(name: str, n: int) -> TestMember:
    return TestMember(
        name, f"identity--00000000-0000-4000-8000-{n:012d}", "token", generate_private_key(), n
    )


def _members(offset: int, cities: int = 3) -> Members:
    return Members(
        _member("reporter", offset),
        [_member(f"city-{i}", offset + i) for i in range(1, cities + 1)],
    )


def test_a_network_indicator_tells_of_itself_and_of_the_reports_it_counts() -> None:
    obj = {
        "id": "indicator--n",
        "extensions": {CORROBORATION_EXTENSION_ID: {"contributing_refs": ["indicator--r"]}},
    }
    assert object_keys(obj) == {"indicator--n", "indicator--r"}
    assert object_keys({"id": "indicator--plain"}) == {"indicator--plain"}
    assert object_keys("not an object") == set()


def test_a_notification_tells_of_its_indicator_and_the_reports_it_counts() -> None:
    payload = {
        "type": "indicator.created",
        "data": {
            "indicator_id": "indicator--n",
            "corroboration": {"contributing_refs": ["indicator--r", 7]},
        },
    }
    assert notification_keys(payload) == {"indicator--n", "indicator--r"}
    assert notification_keys({"type": "x"}) == set()


def test_the_status_takes_every_object_at_once() -> None:
    objects = [
        {"id": "indicator--a", "modified": "2026-01-01T00:00:00.000Z"},
        {"id": "identity--b", "created": "2026-01-02T00:00:00.000Z"},
        {"no": "id"},
    ]
    status = complete_status(objects, now="2026-01-03T00:00:00.000Z")
    assert status["status"] == "complete"
    assert status["success_count"] == status["total_count"] == 2
    assert status["failure_count"] == status["pending_count"] == 0
    assert [s["version"] for s in status["successes"]] == [
        "2026-01-01T00:00:00.000Z",
        "2026-01-02T00:00:00.000Z",
    ]


def test_only_watched_ids_are_timed_and_only_their_first_arrival() -> None:
    arrivals = Arrivals(["r01", "r02"])
    arrivals.record("r01", {"indicator--early"}, 3, at=1.0)
    arrivals.watch(["indicator--u"])
    arrivals.record("r01", {"indicator--u", "indicator--other"}, 2, at=2.0)
    arrivals.record("r01", {"indicator--u"}, 1, at=3.0)
    arrivals.refused("r02")
    seen = arrivals.snapshot()
    assert seen["r01"] == {"items": 6, "requests": 3, "refused": 0, "first": {"indicator--u": 2.0}}
    assert seen["r02"] == {"items": 0, "requests": 0, "refused": 1, "first": {}}


@pytest.mark.parametrize(
    ("endpoints", "per_process", "sizes"),
    [(20, 5, [5, 5, 5, 5]), (5, 5, [5]), (7, 5, [4, 3]), (1, 5, [1]), (11, 5, [4, 4, 3])],
)
def test_roots_are_spread_evenly_over_processes(
    endpoints: int, per_process: int, sizes: list[int]
) -> None:
    assert process_sizes(endpoints, per_process) == sizes
    assert sum(sizes) == endpoints


def test_endpoint_urls() -> None:
    assert endpoint_url("http://127.0.0.1:1", "r01") == "http://127.0.0.1:1/r01/"
    assert endpoint_url("http://127.0.0.1:1", "hooks/01") == "http://127.0.0.1:1/hooks/01"


def _shape(body: bytes, members: Members) -> list[tuple[Any, ...]]:
    """What must be the same on both hubs: pattern, marking, and which city a RED names."""
    cities = {m.identity_id: i for i, m in enumerate(members.cities)}
    shape = []
    for obj in orjson.loads(body)["objects"]:
        audience = [
            cities[member]
            for extension in obj.get("extensions", {}).values()
            for member in extension.get("members", [])
        ]
        assert obj["created_by_ref"] == members.poster.identity_id
        shape.append((obj["pattern"], tuple(obj.get("object_marking_refs", [])), tuple(audience)))
    return shape


def test_twin_envelopes_are_the_same_reports_by_each_hubs_poster() -> None:
    first, second = _members(100), _members(200)
    bodies = twin_envelopes([first, second], 3, random.Random(5), size=40)
    assert [len(b) for b in bodies] == [3, 3]
    for mine, theirs in zip(bodies[0], bodies[1], strict=True):
        assert _shape(mine, first) == _shape(theirs, second)
        patterns = [p for p, _, _ in _shape(mine, first)]
        assert len(set(patterns)) == 40  # fresh IOCs, none repeated
    assert bodies[0][0] != bodies[0][1]  # each envelope its own IOCs
    reds = [shape for body in bodies[0] for shape in _shape(body, first) if shape[2]]
    assert reds, "the TLP mix names RED recipients"


def test_an_urgent_report_carries_its_mark_inside_the_signature() -> None:
    member = _member("reporter", 1)
    obj = urgent_report(member)
    assert obj[URGENT_PROPERTY] is True
    assert obj["type"] == "indicator"
    verify_object(obj, member.key.public_key())
    with pytest.raises(SignatureError):
        verify_object({**obj, URGENT_PROPERTY: False}, member.key.public_key())


def test_latency_is_the_last_arrival_after_the_202_and_none_while_one_is_missing() -> None:
    arrivals: dict[str, dict[str, Any]] = {
        "a": {"first": {"r": 10.5}},
        "b": {"first": {"r": 11.25, "other": 1.0}},
        "c": {"first": {}},
    }
    latencies = arrival_latencies(arrivals, "r", 10.0, ["a", "b"])
    assert latencies == {"a": 0.5, "b": 1.25}
    assert slowest(latencies) == 1.25
    missing = arrival_latencies(arrivals, "r", 10.0, ["a", "b", "c", "d"])
    assert missing["c"] is None and missing["d"] is None
    assert slowest(missing) is None
    assert arrival_latencies(arrivals, "r", 11.0, ["a"]) == {"a": 0.0}  # before the answer
    assert slowest({}) is None


def test_background_outlasts_the_urgent_submissions() -> None:
    assert background_envelopes(20, 1.0, 1.0) >= 3 + 20 * 6.5
    assert background_envelopes(5, 1.0, 0.5) >= 2 * (3 + 5 * 6.5)


def _result(targets: int, ratio: float | None, p95: float | None, count: int) -> dict[str, Any]:
    return {"targets": targets, "ratio": ratio, "urgent": {"all_p95_s": p95, "count": count}}


def test_delivery_targets_hold_only_at_twenty_targets_and_submissions() -> None:
    passed = delivery_targets("sqlite", _result(20, 0.85, 1.5, 20))
    assert [t["result"] for t in passed] == ["PASS", "PASS"]
    missed = delivery_targets("sqlite", _result(20, 0.79, 2.5, 20))
    assert [t["result"] for t in missed] == ["MISS", "MISS"]
    quick = delivery_targets("sqlite", _result(5, 0.95, 0.5, 5))
    assert [t["result"] for t in quick] == ["MISS", "MISS"]
    never = delivery_targets("sqlite", _result(20, None, None, 20))
    assert [t["measured"] for t in never] == ["n/a", "n/a"]
