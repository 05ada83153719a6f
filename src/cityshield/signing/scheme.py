"""Per-object Ed25519 signatures carried in a STIX 2.1 property-extension (or, on the one
type without ``extensions``, a custom property).

Each STIX object a city submits carries its own signature so that any recipient can check
who *wrote* it after the hub has stored, deduplicated and redistributed it (transport
authentication only says who *sent* a batch). The normative description is
``docs/signing.md``; in short:

- the signature lives in ``extensions[SIGNATURE_EXTENSION_ID]`` as
  ``{"extension_type": "property-extension", "alg": "Ed25519", "kid": ..., "sig": ...}``;
  an ``extension-definition`` (which STIX gives no ``extensions``) carries
  ``{"alg", "kid", "sig"}`` in its top-level ``x_cityshield_signature`` instead
  (``signing/placement.py``);
- the signing input is the object with that one entry removed (and ``extensions`` removed if
  it is then empty), canonicalised with RFC 8785 (JCS), as UTF-8 bytes;
- ``kid`` is the RFC 7638 thumbprint of the RFC 8037 OKP JWK of the public key.

The errors are in ``signing/errors.py``, key ids in ``signing/jwk.py``, batch verification
in ``signing/pool.py``.
"""

from __future__ import annotations

from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from cityshield.signing.errors import (
    InvalidSignature,
    MalformedSignature,
    MissingSignature,
    NotCanonicalizable,
    object_details,
)
from cityshield.signing.jcs import canonical_json
from cityshield.signing.jwk import (
    b64url_decode,
    b64url_encode,
    kid_for,
    kid_for_raw,
    public_key_raw,
)
from cityshield.signing.placement import (
    EXTENSION_ENTRY_KEYS,
    EXTENSION_TYPE,
    PROPERTY_ENTRY_KEYS,
    SIGNATURE_ALG,
    SIGNATURE_EXTENSION_ID,
    SIGNATURE_PROPERTY,
    signed_in_property,
    with_signature,
    without_signature,
)

__all__ = [
    "INVALID_SIGNATURE_MESSAGE",
    "SIGNATURE_ALG",
    "SIGNATURE_EXTENSION_ID",
    "SIGNATURE_PROPERTY",
    "invalid_signature",
    "read_signature",
    "sign_object",
    "signing_input",
    "verification_job",
    "verify_object",
]

JSONObject = dict[str, Any]

_SIG_LEN = 64
_KID_LEN = 32  # SHA-256 digest


# --------------------------------------------------------------------------------------------
# Signing input


def signing_input(obj: JSONObject) -> bytes:
    """RFC 8785 bytes of the object without its signature entry.

    JCS makes the input independent of key order, whitespace, escapes and number spelling,
    so an object stays verifiable after any JSON round trip that keeps its *value*.
    Raises :class:`NotCanonicalizable` for values JCS cannot represent (integers beyond
    ±(2**53-1), NaN/Infinity, lone surrogates, non-string keys): a verifier in another
    language would read such values differently, so signing them would be meaningless.
    """
    if not isinstance(obj, dict):
        raise NotCanonicalizable("a signed STIX object must be a JSON object")
    try:
        return canonical_json(without_signature(obj))
    except rfc8785.IntegerDomainError as exc:
        raise NotCanonicalizable(
            f"{exc}: integers must lie within ±(2**53-1) (I-JSON, RFC 7493); "
            "send larger numbers as strings",
            **object_details(obj),
        ) from exc
    except rfc8785.CanonicalizationError as exc:
        raise NotCanonicalizable(
            f"object has no RFC 8785 canonical form: {exc}", **object_details(obj)
        ) from exc
    except RecursionError as exc:
        raise NotCanonicalizable("object is nested too deeply", **object_details(obj)) from exc


# --------------------------------------------------------------------------------------------
# Sign / read / verify


def sign_object(
    obj: JSONObject, private_key: Ed25519PrivateKey, *, kid: str | None = None
) -> JSONObject:
    """Return a signed copy of ``obj``; the input is never mutated.

    Key order is kept and the entry is placed last in ``extensions`` (or, on an
    extension-definition, in ``x_cityshield_signature``), replacing an old signature, so the
    output diffs cleanly against what the author wrote. The copy is shallow: nested values
    are shared with the input. ``kid`` is the key's id when the caller has it at hand (it
    must be ``kid_for`` of the key): deriving the public key and its thumbprint again for
    each of thousands of objects cost the network publisher a tenth of its signing time.
    """
    if not isinstance(obj, dict):
        raise NotCanonicalizable("a signed STIX object must be a JSON object")
    if not signed_in_property(obj) and not isinstance(obj.get("extensions", {}), dict):
        raise MalformedSignature("'extensions' must be a JSON object", **object_details(obj))
    signature = private_key.sign(signing_input(obj))
    if kid is None:
        kid = kid_for(private_key.public_key())
    return with_signature(obj, kid=kid, sig=b64url_encode(signature))


def _entry(obj: JSONObject, details: dict[str, str]) -> tuple[JSONObject, str]:
    """The signature entry and how messages name it, from the one place ``obj``'s type
    keeps it (``signing/placement.py``)."""
    if signed_in_property(obj):
        if SIGNATURE_PROPERTY not in obj:
            raise MissingSignature(
                f"an {obj['type']} has no 'extensions'; its signature goes in "
                f"{SIGNATURE_PROPERTY}, which it lacks",
                **details,
            )
        where, entry = f"the {SIGNATURE_PROPERTY} property", obj[SIGNATURE_PROPERTY]
    else:
        if SIGNATURE_PROPERTY in obj:
            # One place per type: a second spelling would let two verifiers read two
            # different signatures off the same object.
            raise MalformedSignature(
                f"{SIGNATURE_PROPERTY} is only for extension-definitions; this object's "
                f"signature goes in its {SIGNATURE_EXTENSION_ID} extension",
                **details,
            )
        extensions = obj.get("extensions")
        if extensions is None:
            raise MissingSignature(
                f"object has no 'extensions' property, so no {SIGNATURE_EXTENSION_ID} signature",
                **details,
            )
        if not isinstance(extensions, dict):
            raise MalformedSignature("'extensions' must be a JSON object", **details)
        if SIGNATURE_EXTENSION_ID not in extensions:
            raise MissingSignature(f"object has no {SIGNATURE_EXTENSION_ID} extension", **details)
        where, entry = "the signature extension", extensions[SIGNATURE_EXTENSION_ID]
    if not isinstance(entry, dict):
        raise MalformedSignature(f"{where} must be a JSON object", **details)
    return entry, where


def read_signature(obj: JSONObject) -> tuple[str, bytes]:
    """Return ``(kid, signature bytes)`` after checking the entry's shape.

    Unknown properties in the entry are rejected: the entry is excluded from the signing
    input, so anything extra in it would be unauthenticated data riding on a signed object.
    """
    if not isinstance(obj, dict):
        raise MalformedSignature("a signed STIX object must be a JSON object")
    details = object_details(obj)
    entry, where = _entry(obj, details)
    expected_keys = PROPERTY_ENTRY_KEYS if signed_in_property(obj) else EXTENSION_ENTRY_KEYS
    missing = sorted(expected_keys - entry.keys())
    if missing:
        raise MalformedSignature(f"{where} lacks {', '.join(missing)}", **details)
    extra = sorted(entry.keys() - expected_keys)
    if extra:
        raise MalformedSignature(
            f"{where} has unexpected (unsigned) properties: {', '.join(extra)}", **details
        )
    if "extension_type" in expected_keys and entry["extension_type"] != EXTENSION_TYPE:
        raise MalformedSignature(
            f"the signature extension's extension_type must be {EXTENSION_TYPE!r}, "
            f"got {entry['extension_type']!r}",
            **details,
        )
    if entry["alg"] != SIGNATURE_ALG:
        raise MalformedSignature(
            f"unsupported signature alg {entry['alg']!r}; only {SIGNATURE_ALG!r} is accepted",
            **details,
        )
    kid = entry["kid"]
    try:
        kid_ok = len(b64url_decode(kid)) == _KID_LEN
    except ValueError:
        kid_ok = False
    if not kid_ok:
        raise MalformedSignature(
            "kid must be an RFC 7638 SHA-256 thumbprint: 43 base64url characters", **details
        )
    details["kid"] = kid
    try:
        signature = b64url_decode(entry["sig"])
    except ValueError as exc:
        raise MalformedSignature(f"sig is not base64url without padding: {exc}", **details) from exc
    if len(signature) != _SIG_LEN:
        raise MalformedSignature(
            f"sig must encode {_SIG_LEN} bytes (Ed25519), got {len(signature)}", **details
        )
    return kid, signature


def verification_job(
    obj: JSONObject, public_key: Ed25519PublicKey, *, signed: tuple[str, bytes] | None = None
) -> tuple[bytes, bytes, bytes]:
    """Everything but the Ed25519 check: (raw public key, signing input, signature), plain
    bytes that a worker process can check (``signing/pool.py``). ``signed``: what
    :func:`read_signature` returned for ``obj``, when the caller already read it."""
    kid, signature = signed if signed is not None else read_signature(obj)
    raw = public_key_raw(public_key)
    expected = kid_for_raw(raw)
    if kid != expected:
        # kid is outside the signed content; binding it to the verifying key keeps audit
        # records ("signed by kid X") truthful.
        raise InvalidSignature(
            f"kid {kid} does not identify the verifying key (its kid is {expected})",
            **object_details(obj),
            kid=kid,
        )
    return raw, signing_input(obj), signature


#: Why a signature that is well-formed and names the right key still fails. Most often a tool
#: between the signer and the hub re-serialised the object (stix2 adds ``pattern_version`` and
#: rewrites timestamps to its own precision), so the message names that before anything else.
INVALID_SIGNATURE_MESSAGE = (
    "signature does not match: the object's content differs from what was signed (it was "
    "changed after signing, or a tool re-serialised it, e.g. stix2 rewriting timestamps or "
    "adding pattern_version), or it was signed with another key"
)


def invalid_signature(obj: JSONObject, kid: str) -> InvalidSignature:
    """The error for a signature the Ed25519 check refused."""
    return InvalidSignature(INVALID_SIGNATURE_MESSAGE, **object_details(obj), kid=kid)


def verify_object(obj: JSONObject, public_key: Ed25519PublicKey) -> None:
    """Raise a :class:`SignatureError` unless ``obj`` carries a valid signature by
    ``public_key``."""
    raw, data, signature = verification_job(obj, public_key)
    try:
        public_key.verify(signature, data)
    except _CryptoInvalidSignature:
        raise invalid_signature(obj, kid_for_raw(raw)) from None
