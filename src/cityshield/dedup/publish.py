"""The hub-authored network indicator for one IOC, and its corroboration extension.

The corroboration extension (``CORROBORATION_EXTENSION_ID``) is a STIX 2.1
property-extension; its definition is published in the ``hub`` collection:

    member_count       distinct members that reported or sighted the IOC
    report_count       contributing original indicators
    sighting_count     contributing sightings
    first_seen, last_seen
    contributing_refs  ids of the contributing original indicators (in ``submissions``)
    observable_type, canonical_key
    state              active | revoked | expired
    benign_reason      present when the value is known-benign (kept out of block exports)
    urgent             present (true) when a counted report was submitted urgent and the
                       hub honoured it (docs/urgent-and-webhooks.md)
    feed_count         present when feeds the hub pulls vouch for the IOC (docs/feeds.md):
                       how many (they are not in member_count)
    feed_refs          with feed_count: which of contributing_refs came from feeds

``confidence`` (top level) is the noisy-OR aggregate documented in ``aggregate.py``.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from typing import Any

from cityshield.dedup.aggregate import Corroboration
from cityshield.dedup.hub_context import HubContext
from cityshield.signing.scheme import sign_object
from cityshield.stix.vocabulary import TLP2
from cityshield.timefmt import format_timestamp

CORROBORATION_EXTENSION_ID = "extension-definition--7f3c9a8e-2b1d-4c6e-9f0a-5d4b3c2a1e0f"
NETWORK_NAMESPACE = uuid.UUID("6f1c3a52-3d1e-4c55-9a0e-c1d5e1e5a003")
TLP_ID = {level: marking for marking, level in TLP2.items()}


@functools.lru_cache(maxsize=16384)
def network_indicator_id(key: str, generation: int = 0) -> str:
    """Deterministic: every hub (and every re-run) names the same IOC the same way. A later
    generation (the IOC came back after being revoked) gets a new id. Remembered for more
    IOCs than a pass publishes: a pass names each IOC once network-wide and again for
    every member that first sees it (a uuid5 each)."""
    name = key if generation == 0 else f"{key}#{generation}"
    return f"indicator--{uuid.uuid5(NETWORK_NAMESPACE, name)}"


@dataclass(frozen=True)
class Subject:
    """What a network indicator says of its IOC besides the corroboration: the network-wide
    indicator's id and creation, or one member's (``dedup.views``)."""

    indicator_id: str
    key: str
    pattern: str
    observable_type: str
    value: str | None
    created_us: int
    benign_reason: str | None


def build_network_indicator(
    ioc: Subject, corroboration: Corroboration, *, context: HubContext, modified_us: int
) -> dict[str, Any]:
    """The signed network indicator for ``ioc`` as of ``modified_us``."""
    extension: dict[str, Any] = {
        "extension_type": "property-extension",
        "member_count": corroboration.member_count,
        "report_count": corroboration.report_count,
        "sighting_count": corroboration.sighting_count,
        "first_seen": format_timestamp(corroboration.first_seen_us),
        "last_seen": format_timestamp(corroboration.last_seen_us),
        "contributing_refs": list(corroboration.contributing_refs),
        "observable_type": ioc.observable_type,
        "canonical_key": ioc.key,
        "state": corroboration.state,
    }
    if ioc.benign_reason:
        extension["benign_reason"] = ioc.benign_reason
    if corroboration.urgent:
        extension["urgent"] = True
    if corroboration.feed_count:
        extension["feed_count"] = corroboration.feed_count
        extension["feed_refs"] = list(corroboration.feed_refs)
    name = f"{ioc.observable_type} {ioc.value}" if ioc.value else "Compound indicator"
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": ioc.indicator_id,
        "created_by_ref": context.hub_identity_id,
        "created": format_timestamp(ioc.created_us),
        "modified": format_timestamp(modified_us),
        "name": name[:250],
        "indicator_types": list(corroboration.indicator_types) or ["malicious-activity"],
        "pattern": ioc.pattern,
        "pattern_type": "stix",
        "pattern_version": "2.1",
        "valid_from": format_timestamp(corroboration.first_seen_us),
        "confidence": corroboration.confidence,
    }
    if (
        corroboration.expires_us is not None
        and corroboration.expires_us > corroboration.first_seen_us
    ):
        obj["valid_until"] = format_timestamp(corroboration.expires_us)
    if corroboration.state != "active":
        obj["revoked"] = True
    if corroboration.tlp:
        obj["object_marking_refs"] = [TLP_ID[corroboration.tlp]]
    obj["extensions"] = {CORROBORATION_EXTENSION_ID: extension}
    return sign_object(obj, context.hub_key, kid=context.hub_kid)


def corroboration_extension_definition(hub_identity_id: str, created: str) -> dict[str, Any]:
    """The STIX extension-definition members' tools need to understand the extension."""
    return {
        "type": "extension-definition",
        "spec_version": "2.1",
        "id": CORROBORATION_EXTENSION_ID,
        "created_by_ref": hub_identity_id,
        "created": created,
        "modified": created,
        "name": "cityshield corroboration",
        "description": (
            "How many of the network's members reported or sighted this IOC, when, and which "
            "original indicators contributed. confidence is a noisy-OR over distinct members."
        ),
        "schema": "https://github.com/cityshield/cityshield/blob/main/docs/dedup.md",
        "version": "1.0.0",
        "extension_types": ["property-extension"],
    }
