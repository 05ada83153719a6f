"""How a public key is written down: base64url, its RFC 7638 key id, its RFC 8037 JWK.

The ``kid`` is a thumbprint anyone can recompute from the key alone, so signer, hub and
recipients agree on key names without a registry.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import re
from typing import Any

import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

__all__ = [
    "b64url_decode",
    "b64url_encode",
    "kid_for",
    "kid_for_raw",
    "public_jwk",
    "public_key_raw",
]

_B64URL_RE = re.compile(r"[A-Za-z0-9_-]*")


def b64url_encode(data: bytes) -> str:
    """Base64url without padding (RFC 7515 §2), the encoding of every binary value here."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict inverse of :func:`b64url_encode`; raises ``ValueError``.

    Rejects padding, whitespace, the standard-alphabet ``+``/``/`` and non-canonical trailing
    bits, so each byte string has exactly one accepted text form and a ``sig`` cannot be
    re-spelled into a different-looking but equally valid value.
    """
    if not isinstance(text, str):
        raise ValueError("base64url value must be a string")
    if not _B64URL_RE.fullmatch(text):
        raise ValueError("base64url value contains characters outside A-Z a-z 0-9 - _")
    if len(text) % 4 == 1:
        raise ValueError("base64url value has an impossible length")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error as exc:  # pragma: no cover - excluded by the checks above
        raise ValueError(f"invalid base64url: {exc}") from exc
    if b64url_encode(data) != text:
        raise ValueError("base64url value has non-zero padding bits")
    return data


def public_key_raw(key: Ed25519PublicKey) -> bytes:
    """The 32-byte RFC 8032 encoding: the JWK ``x`` value and what the hub stores."""
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


@functools.lru_cache(maxsize=4096)
def kid_for_raw(raw: bytes) -> str:
    """:func:`kid_for` of the raw key bytes; cached, as signers and verifiers ask per object."""
    # RFC 7638 §3: required members only, lexicographic order, no whitespace, i.e. JCS.
    members = {"crv": "Ed25519", "kty": "OKP", "x": b64url_encode(raw)}
    return b64url_encode(hashlib.sha256(rfc8785.dumps(members)).digest())


def kid_for(public_key: Ed25519PublicKey) -> str:
    """RFC 7638 JWK thumbprint of the key: a kid anyone can recompute from the key alone,
    so no registry is needed to agree on key names."""
    return kid_for_raw(public_key_raw(public_key))


def public_jwk(public_key: Ed25519PublicKey, *, kid: str | None = None) -> dict[str, Any]:
    """RFC 8037 OKP JWK for publishing in a JWKS, so other implementations can verify."""
    raw = public_key_raw(public_key)
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": b64url_encode(raw),
        "kid": kid if kid is not None else kid_for_raw(raw),
        "alg": "EdDSA",
        "use": "sig",
    }
