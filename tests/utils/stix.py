"""Small factories for STIX objects and envelopes used across tests."""

from __future__ import annotations

import itertools
import random
import uuid
from typing import Any

_counter = itertools.count(1)
TLP_GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"


_addresses = itertools.count(random.randrange(0, 2**20))


def fresh_ipv4() -> str:
    """An address no other test in this process uses (from 100.64.0.0/10, never
    allowlisted): tests sharing a hub must not corroborate each other's IOCs by chance."""
    n = next(_addresses) % 2**22
    return f"100.{64 + (n >> 16)}.{(n >> 8) & 255}.{n & 255}"


def stamp(second: int = 0, minute: int = 0, ms: int = 0) -> str:
    return f"2026-11-20T09:{minute:02d}:{second:02d}.{ms:03d}Z"


def indicator(
    *,
    value: str | None = None,
    object_id: str | None = None,
    modified: str | None = None,
    created: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A valid indicator for an IPv4 address (unique by default), TLP:GREEN so every member
    may read it unless a test says otherwise."""
    n = next(_counter)
    value = value or f"198.51.{n // 250 % 250}.{n % 250 + 1}"
    created = created or stamp()
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": object_id or f"indicator--{uuid.uuid4()}",
        "created": created,
        "modified": modified or created,
        "name": f"test indicator {n}",
        "indicator_types": ["malicious-activity"],
        "pattern": f"[ipv4-addr:value = '{value}']",
        "pattern_type": "stix",
        "valid_from": "2026-11-20T09:00:00Z",
        "object_marking_refs": [TLP_GREEN],
    }
    obj.update(extra)
    return obj


def sighting(of: str, **extra: Any) -> dict[str, Any]:
    """A TLP:GREEN sighting of the object ``of`` (a network indicator or an original)."""
    return {
        "type": "sighting",
        "spec_version": "2.1",
        "id": f"sighting--{uuid.uuid4()}",
        "created": stamp(),
        "modified": stamp(),
        "sighting_of_ref": of,
        "object_marking_refs": [TLP_GREEN],
        **extra,
    }


def envelope(*objects: dict[str, Any]) -> dict[str, Any]:
    return {"objects": list(objects)}


def tlp_green_definition() -> dict[str, Any]:
    """The TLP 2.0 GREEN marking-definition as OASIS publishes it (never signed)."""
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP_GREEN,
        "created": "2022-10-01T00:00:00.000Z",
        "name": "TLP:GREEN",
        "extensions": {
            "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d": {
                "extension_type": "property-extension",
                "tlp_2_0": "green",
            }
        },
    }
