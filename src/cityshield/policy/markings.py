"""Marking definitions the hub recognises (TLP 2.0 and TLP 1.0).

Ids from shared/reference/stix-markings.md: TLP 2.0 as published by OASIS in
cti-stix-common-objects (extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d), TLP 1.0
from the STIX 2.1 specification section 7.2.1.4. TLP:WHITE is treated as TLP:CLEAR.
"""

from __future__ import annotations

from typing import Any

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


def is_predefined_marking(obj: Any) -> bool:
    """A standard TLP marking-definition: published by standards bodies, never signed."""
    return (
        isinstance(obj, dict)
        and obj.get("type") == "marking-definition"
        and obj.get("id") in TLP_LEVELS
    )
