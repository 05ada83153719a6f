"""Signatures on extension-definitions, which STIX 2.1 gives no ``extensions``: the same
alg/kid/sig in the top-level ``x_cityshield_signature`` (docs/signing.md)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import rfc8785
import stix2
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cityshield.signing.definition import extension_definition
from cityshield.signing.errors import InvalidSignature, MalformedSignature, MissingSignature
from cityshield.signing.jwk import kid_for
from cityshield.signing.placement import SIGNATURE_PROPERTY
from cityshield.signing.scheme import (
    SIGNATURE_EXTENSION_ID,
    read_signature,
    sign_object,
    signing_input,
    verify_object,
)
from cityshield.stix.validation import validate_object

KEY = Ed25519PrivateKey.from_private_bytes(bytes.fromhex("00" * 31 + "01"))
OTHER_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(100, 132)))
HUB = "identity--5a5f2a8e-3f6e-4b8e-9a36-7c0c2f8d1b11"


def definition() -> dict[str, Any]:
    return extension_definition(HUB, "2026-01-01T00:00:00.000Z")


def test_an_extension_definition_is_signed_in_the_custom_property() -> None:
    unsigned = definition()
    signed = sign_object(unsigned, KEY)
    assert "extensions" not in signed
    assert list(signed)[-1] == SIGNATURE_PROPERTY  # key order kept, signature last
    entry = signed[SIGNATURE_PROPERTY]
    assert set(entry) == {"alg", "kid", "sig"}
    assert entry["alg"] == "Ed25519" and entry["kid"] == kid_for(KEY.public_key())
    assert signing_input(signed) == rfc8785.dumps(unsigned)  # the object minus the property
    verify_object(signed, KEY.public_key())
    resigned = sign_object(signed, OTHER_KEY)
    assert resigned[SIGNATURE_PROPERTY]["kid"] == kid_for(OTHER_KEY.public_key())
    verify_object(resigned, OTHER_KEY.public_key())


def test_a_changed_extension_definition_no_longer_verifies() -> None:
    signed = sign_object(definition(), KEY)
    with pytest.raises(InvalidSignature):
        verify_object(dict(signed, schema="https://elsewhere.example/schema"), KEY.public_key())
    with pytest.raises(InvalidSignature):
        verify_object(signed, OTHER_KEY.public_key())


def test_stix2_and_the_hub_validator_accept_it_and_stix2_round_trips_it() -> None:
    signed = sign_object(definition(), KEY)
    assert validate_object(signed) is None
    parsed = stix2.parse(signed, allow_custom=True)
    back = json.loads(parsed.serialize())
    assert back == signed
    verify_object(back, KEY.public_key())
    store = stix2.MemoryStore([signed])
    assert store.get(signed["id"])[SIGNATURE_PROPERTY]["kid"] == kid_for(KEY.public_key())


def test_an_unsigned_extension_definition_is_missing_its_signature() -> None:
    with pytest.raises(MissingSignature, match=SIGNATURE_PROPERTY):
        read_signature(definition())


def test_the_extension_entry_does_not_count_on_an_extension_definition() -> None:
    """One place per type: the entry that signs other objects is not read here."""
    indicator_style = sign_object({**definition(), "type": "indicator"}, KEY)
    misplaced = {**definition(), "extensions": indicator_style["extensions"]}
    with pytest.raises(MissingSignature):
        read_signature(misplaced)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"extension_type": "property-extension"}, "unexpected"),
        ({"x_note": "unsigned rider"}, "unexpected"),
        ({"alg": "RS256"}, "alg"),
        ({"kid": "short"}, "kid"),
        ({"sig": "AA"}, "64 bytes"),
    ],
)
def test_malformed_property(change: dict[str, Any], message: str) -> None:
    signed = sign_object(definition(), KEY)
    signed[SIGNATURE_PROPERTY] = {**signed[SIGNATURE_PROPERTY], **change}
    with pytest.raises(MalformedSignature, match=message):
        verify_object(signed, KEY.public_key())


@pytest.mark.parametrize("prop", ["alg", "kid", "sig"])
def test_property_missing_a_member(prop: str) -> None:
    signed = sign_object(definition(), KEY)
    del signed[SIGNATURE_PROPERTY][prop]
    with pytest.raises(MalformedSignature, match=prop):
        read_signature(signed)


def test_property_not_an_object() -> None:
    with pytest.raises(MalformedSignature, match="JSON object"):
        read_signature({**definition(), SIGNATURE_PROPERTY: "a signature"})


def test_the_property_is_refused_on_types_that_have_extensions() -> None:
    """Otherwise an indicator could carry two signatures, and two verifiers could read
    different ones."""
    signed_definition = sign_object(definition(), KEY)
    indicator = sign_object(
        {
            "type": "indicator",
            "spec_version": "2.1",
            "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
            "created": "2026-11-20T09:15:00.000Z",
            "modified": "2026-11-20T09:15:00.000Z",
            "pattern": "[ipv4-addr:value = '198.51.100.7']",
            "pattern_type": "stix",
            "valid_from": "2026-11-20T09:15:00Z",
        },
        KEY,
    )
    assert SIGNATURE_EXTENSION_ID in indicator["extensions"]
    with pytest.raises(MalformedSignature, match="only for extension-definitions"):
        read_signature({**indicator, SIGNATURE_PROPERTY: signed_definition[SIGNATURE_PROPERTY]})
