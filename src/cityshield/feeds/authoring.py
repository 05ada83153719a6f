"""The feed's own indicators: built by the hub, attributed to the feed's identity and
signed with the feed's key (``feeds/keys.py``).

Ids are the feed's own, UUIDv5 under the feed's random salt of the value's key (list
feeds, with the generation once a withdrawn value returns) or of the upstream object's id
(TAXII feeds). So a re-pull names the same object the same way (ingest then sees the same
id and version, a no-op), a feed never names a member's object (it cannot shadow or
version one), and no member can predict a feed's id to take it first.

An upstream object is not stored as received: it is another author's, signed (if at all)
with a key this hub does not know, and its id is the upstream's to version. The feed's
copy keeps the indicator's meaning (pattern, validity, types, kill chain, references)
and takes its TLP level as the stricter of the upstream's and the feed's, never wider.
Its ``confidence`` is the feed's: how much this network trusts the source.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cityshield.feeds.definition import FeedDefinition
from cityshield.feeds.values import key_pattern
from cityshield.signing.scheme import sign_object
from cityshield.stix.vocabulary import TLP2_IDS, TLP_LEVELS, TLP_ORDER, version_stamp
from cityshield.timefmt import format_timestamp

JSONObject = dict[str, Any]
KEPT_PROPERTIES = (
    "name",
    "description",
    "indicator_types",
    "pattern",
    "pattern_type",
    "pattern_version",
    "valid_from",
    "valid_until",
    "kill_chain_phases",
    "labels",
    "lang",
    "external_references",
    "revoked",
)
"""What a feed's copy of an upstream indicator keeps: its meaning, not its author's
signature, markings, extensions or custom properties."""


@dataclass(frozen=True)
class Author:
    """A feed as the author of its indicators."""

    definition: FeedDefinition
    identity_id: str
    salt: uuid.UUID
    key: Ed25519PrivateKey

    def object_id(self, key: str, generation: int = 0) -> str:
        name = key if generation == 0 else f"{key}#{generation}"
        return f"indicator--{uuid.uuid5(self.salt, name)}"

    def upstream_id(self, upstream_id: str) -> str:
        return self.object_id(f"upstream:{upstream_id}")

    def _reference(self) -> JSONObject:
        return {
            "source_name": f"cityshield feed {self.definition.name}",
            "url": self.definition.url,
        }

    def list_indicator(
        self, key: str, *, object_id: str, created_us: int, modified_us: int, revoked: bool
    ) -> JSONObject:
        """The feed's indicator for a listed value; ``revoked`` once the list dropped it."""
        pattern, value = key_pattern(key)
        stix_type = key.partition(":")[0]
        created = format_timestamp(created_us)
        obj: JSONObject = {
            "type": "indicator",
            "spec_version": "2.1",
            "id": object_id,
            "created_by_ref": self.identity_id,
            "created": created,
            "modified": format_timestamp(modified_us),
            "name": f"{stix_type} {value}"[:250],
            "description": f"Listed by the {self.definition.name} feed.",
            "indicator_types": list(self.definition.indicator_types),
            "pattern": pattern,
            "pattern_type": "stix",
            "pattern_version": "2.1",
            "valid_from": created,
            "confidence": self.definition.confidence,
            "external_references": [self._reference()],
            "object_marking_refs": [TLP2_IDS[self.definition.tlp]],
        }
        if revoked:
            obj["revoked"] = True
        return sign_object(obj, self.key)

    def upstream_indicator(self, upstream: JSONObject) -> JSONObject:
        """The feed's copy of an upstream indicator (the caller checked its type)."""
        obj: JSONObject = {
            "type": "indicator",
            "spec_version": "2.1",
            "id": self.upstream_id(str(upstream.get("id"))),
            "created_by_ref": self.identity_id,
            "created": upstream.get("created"),
            "modified": version_stamp(upstream),
        }
        obj.update({k: upstream[k] for k in KEPT_PROPERTIES if k in upstream})
        references = obj.get("external_references")
        obj["external_references"] = [
            *(references if isinstance(references, list) else []),
            {**self._reference(), "external_id": str(upstream.get("id"))},
        ]
        obj["confidence"] = self.definition.confidence
        level = self.definition.strictest(_upstream_level(upstream))
        obj["object_marking_refs"] = [TLP2_IDS[level]]
        return sign_object(obj, self.key)


def _upstream_level(upstream: JSONObject) -> str | None:
    """The most restrictive TLP level an upstream object is marked with (it may be
    malformed: it has not been validated yet)."""
    refs = upstream.get("object_marking_refs")
    levels = (
        [TLP_LEVELS[r] for r in refs if isinstance(r, str) and r in TLP_LEVELS]
        if isinstance(refs, list)
        else []
    )
    return max(levels, key=TLP_ORDER.index) if levels else None
