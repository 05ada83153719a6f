"""The STIX 2.1 extension-definition of the signature extension, as the hub publishes it.

STIX tools that meet an unknown ``extension-definition--...`` key may flag or drop it;
publishing the definition (with a JSON Schema of the entry) lets them keep it.
"""

from __future__ import annotations

from typing import Any

import rfc8785

from cityshield.signing.placement import (
    EXTENSION_TYPE,
    SIGNATURE_ALG,
    SIGNATURE_EXTENSION_ID,
    SIGNATURE_PROPERTY,
)

JSONObject = dict[str, Any]

#: JSON Schema of the extension entry; published in the extension-definition's ``schema``.
SIGNATURE_ENTRY_SCHEMA: JSONObject = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "cityshield object signature (STIX 2.1 property-extension)",
    "type": "object",
    "properties": {
        "extension_type": {"const": EXTENSION_TYPE},
        "alg": {"const": SIGNATURE_ALG},
        "kid": {
            "description": "RFC 7638 JWK thumbprint (SHA-256, base64url without padding) "
            "of the signer's Ed25519 OKP JWK",
            "type": "string",
            "pattern": "^[A-Za-z0-9_-]{43}$",
        },
        "sig": {
            "description": "Ed25519 signature (base64url without padding) over the RFC 8785 "
            "canonical form of the object without this extension entry",
            "type": "string",
            "pattern": "^[A-Za-z0-9_-]{86}$",
        },
    },
    "required": ["extension_type", "alg", "kid", "sig"],
    "additionalProperties": False,
}


def extension_definition(
    hub_identity_id: str, created: str, *, schema: str | None = None
) -> JSONObject:
    """The STIX 2.1 ``extension-definition`` (§7.3) that tells STIX tools what the
    signature extension is, so they keep it instead of flagging an unknown extension.

    Unsigned: the hub signs it (in ``x_cityshield_signature``) when it publishes it.
    ``schema`` defaults to the entry's JSON Schema as text; pass a URL if the hub serves it.
    """
    if not hub_identity_id.startswith("identity--"):
        raise ValueError("created_by_ref must be an identity id (identity--<uuid>)")
    if schema is None:
        schema = rfc8785.dumps(SIGNATURE_ENTRY_SCHEMA).decode("utf-8")
    return {
        "type": "extension-definition",
        "spec_version": "2.1",
        "id": SIGNATURE_EXTENSION_ID,
        "created_by_ref": hub_identity_id,
        "created": created,
        "modified": created,
        "name": "cityshield object signature",
        "description": (
            "Ed25519 signature by the object's author. sig (base64url, no padding) signs the "
            "RFC 8785 (JCS) UTF-8 serialisation of the object with this extension entry removed "
            "(and 'extensions' removed if then empty); kid is the RFC 7638 thumbprint of the "
            "signer's OKP JWK. Store and forward signed objects byte-for-byte as received. "
            "An extension-definition, which STIX gives no 'extensions' property, carries the "
            f"same alg, kid and sig in its top-level {SIGNATURE_PROPERTY} property instead, "
            "and is signed without that property."
        ),
        "schema": schema,
        "version": "1.0.0",
        "extension_types": [EXTENSION_TYPE],
    }
