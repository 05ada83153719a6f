"""Valid STIX 2.1 indicators for the benchmark: unique ids and unique IPv4 patterns,
signed by the submitting member as the hub requires."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from typing import Any

import orjson

from tests.utils.server import TestMember

STAMP = "2026-11-20T09:00:00.000Z"
_serial = itertools.count(1)


def indicator(n: int) -> dict[str, Any]:
    """Indicator number ``n``; its address 10.a.b.c is unique for n < 2**24."""
    address = f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid4()}",
        "created": STAMP,
        "modified": STAMP,
        "name": f"bench indicator {n}",
        "indicator_types": ["malicious-activity"],
        "pattern": f"[ipv4-addr:value = '{address}']",
        "pattern_type": "stix",
        "valid_from": STAMP,
    }


def indicators(count: int) -> list[dict[str, Any]]:
    """``count`` fresh indicators; numbers are never reused within one run."""
    return [indicator(next(_serial)) for _ in range(count)]


def signed_indicators(member: TestMember, count: int) -> list[dict[str, Any]]:
    """``count`` fresh indicators signed with ``member``'s registered key."""
    return member.sign(*indicators(count))


def envelopes(objects: list[dict[str, Any]], size: int = 500) -> Iterator[bytes]:
    """Serialised TAXII envelopes of ``size`` objects (built before any timing starts)."""
    for start in range(0, len(objects), size):
        yield orjson.dumps({"objects": objects[start : start + size]})
