"""The STIX vocabulary the hub speaks, in one place: the TLP marking ids it recognises and
their order, the restricted levels, the official TLP definitions, and which property names
an object's version.

Ids from shared/reference/stix-markings.md: TLP 2.0 as published by OASIS in
cti-stix-common-objects (extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d), TLP 1.0
from the STIX 2.1 specification section 7.2.1.4. TLP:WHITE is treated as TLP:CLEAR.
Pure: no database, so ingest, the policy, the network view and the CLI read the same words.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cityshield.jsonvalue import same_json

TLP_ORDER = ("clear", "green", "amber", "amber+strict", "red")
"""TLP levels, least to most restrictive (TLP 1.0 ``white`` is ``clear``)."""
RESTRICTED_LEVELS = frozenset({"amber+strict", "red"})
"""Levels shared only with named recipients: never counted in network aggregates or exports."""

TLP2 = {
    "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487": "clear",
    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb": "green",
    "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421": "amber",
    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003": "amber+strict",
    "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1": "red",
}
TLP1 = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": "clear",
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": "green",
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": "amber",
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": "red",
}
TLP_LEVELS: dict[str, str] = {**TLP2, **TLP1}
"""Every TLP marking-definition id the hub recognises -> its level."""
TLP2_IDS: dict[str, str] = {level: marking_id for marking_id, level in TLP2.items()}
"""Level -> TLP 2.0 marking-definition id: what the hub and its tools mark objects with."""


def is_predefined_marking(obj: Any) -> bool:
    """A standard TLP marking-definition: published by standards bodies, never signed."""
    return (
        isinstance(obj, dict)
        and obj.get("type") == "marking-definition"
        and obj.get("id") in TLP_LEVELS
    )


TLP2_EXTENSION_ID = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"


def _tlp2_definition(marking_id: str, level: str) -> dict[str, Any]:
    """A TLP 2.0 marking-definition exactly as OASIS publishes it (cti-stix-common-objects,
    extension-definition-specifications/tlp-2.0/examples)."""
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": marking_id,
        "created": "2022-10-01T00:00:00.000Z",
        "name": f"TLP:{level.upper()}",
        "extensions": {
            TLP2_EXTENSION_ID: {"extension_type": "property-extension", "tlp_2_0": level}
        },
    }


def _tlp1_definition(marking_id: str, level: str) -> dict[str, Any]:
    """A TLP 1.0 marking-definition exactly as the STIX 2.1 specification (7.2.1.4) and
    the stix2 library define it."""
    word = "white" if level == "clear" else level
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": marking_id,
        "created": "2017-01-20T00:00:00.000Z",
        "definition_type": "tlp",
        "name": f"TLP:{word.upper()}",
        "definition": {"tlp": word},
    }


OFFICIAL_DEFINITIONS: dict[str, dict[str, Any]] = {
    **{marking_id: _tlp2_definition(marking_id, level) for marking_id, level in TLP2.items()},
    **{marking_id: _tlp1_definition(marking_id, level) for marking_id, level in TLP1.items()},
}
"""The official marking-definition of every TLP id the hub recognises; the ``hub``
collection serves these, and a member's copy is accepted only if it is exactly one."""


def is_official_definition(obj: dict[str, Any]) -> bool:
    """Exactly the official definition (same JSON value; key order and whitespace aside).

    A marking-definition under a TLP id whose statement differs ("anyone may share this
    freely" under TLP:RED's id) would otherwise be served as if the standard said it."""
    official = OFFICIAL_DEFINITIONS.get(obj.get("id"))  # type: ignore[arg-type]
    return official is not None and same_json(obj, official)


def version_stamp(obj: Mapping[str, Any]) -> str | None:
    """An object's version as TAXII names it: ``modified``, else ``created``; None for an
    object with neither (an SCO), whose version is its ``date_added`` (TAXII 2.1, 3.4)."""
    stamp = obj.get("modified") or obj.get("created")
    return stamp if isinstance(stamp, str) else None
