"""Ed25519 key generation, serialisation and lenient-but-strict loading.

Cities hand the hub public keys in whatever form their tooling produces (PEM from OpenSSL,
a JWK from a JOSE library, a raw base64url string pasted into a form), so loading accepts
each of those, but only for Ed25519: anything else is refused with a message that says what
was received and what is expected, raised as :class:`cityshield.errors.BadRequest`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, rsa, x448, x25519
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)

from cityshield.errors import BadRequest
from cityshield.signing.jwk import b64url_decode, kid_for

__all__ = [
    "generate_private_key",
    "load_private_key",
    "load_public_key",
    "private_key_to_pem",
    "public_key_to_pem",
]

_HEX_SEED_RE = re.compile(r"[0-9A-Fa-f]{64}")
_B64URL_32_RE = re.compile(r"[A-Za-z0-9_-]{43}")
_EXPECTED_PUBLIC = (
    "expected an Ed25519 public key as PEM (-----BEGIN PUBLIC KEY-----), "
    "43 base64url characters (raw 32-byte key), or an OKP JWK JSON object"
)
_EXPECTED_PRIVATE = (
    "expected an Ed25519 private key as PKCS#8 PEM (-----BEGIN PRIVATE KEY-----) "
    "or a raw 32-byte seed as 64 hex or 43 base64url characters"
)


def generate_private_key() -> Ed25519PrivateKey:
    """A fresh signing key from the OS CSPRNG."""
    return Ed25519PrivateKey.generate()


def private_key_to_pem(key: Ed25519PrivateKey) -> bytes:
    """Unencrypted PKCS#8 PEM, the form OpenSSL and most tools read; protect the file itself."""
    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())


def public_key_to_pem(key: Ed25519PublicKey) -> bytes:
    """SubjectPublicKeyInfo PEM (``-----BEGIN PUBLIC KEY-----``)."""
    return key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)


def _text(data: bytes | str, what: str) -> str:
    if isinstance(data, str):
        return data.strip()
    try:
        return data.decode("ascii").strip()
    except UnicodeDecodeError:
        raise BadRequest(f"{what} is not ASCII text (binary DER is not accepted)") from None


def _kind(key: object) -> str:
    """Human name of a key type, for 'got X' messages."""
    if isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey):
        return "an RSA key"
    if isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey):
        return f"an EC key on {key.curve.name}"
    if isinstance(key, ed448.Ed448PublicKey | ed448.Ed448PrivateKey):
        return "an Ed448 key"
    if isinstance(key, x25519.X25519PublicKey | x25519.X25519PrivateKey):
        return "an X25519 key (key agreement, not signatures)"
    if isinstance(key, x448.X448PublicKey | x448.X448PrivateKey):
        return "an X448 key (key agreement, not signatures)"
    if isinstance(key, dsa.DSAPublicKey | dsa.DSAPrivateKey):
        return "a DSA key"
    return f"a {type(key).__name__}"


def load_private_key(data: bytes | str, *, password: bytes | None = None) -> Ed25519PrivateKey:
    """Load a city's signing key from PKCS#8 PEM or a raw 32-byte seed (hex or base64url)."""
    text = _text(data, "private key")
    if "-----BEGIN" in text:
        try:
            key = load_pem_private_key(text.encode("ascii"), password=password)
        except TypeError as exc:  # encrypted without password, or password for a plain key
            raise BadRequest(f"cannot load private key: {exc}") from exc
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise BadRequest(f"cannot load private key PEM: {exc}; {_EXPECTED_PRIVATE}") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise BadRequest(f"got {_kind(key)}; {_EXPECTED_PRIVATE}")
        return key
    if _HEX_SEED_RE.fullmatch(text):
        seed = bytes.fromhex(text)
    elif _B64URL_32_RE.fullmatch(text):
        try:
            seed = b64url_decode(text)
        except ValueError as exc:
            raise BadRequest(f"private key seed is not valid base64url: {exc}") from exc
    else:
        raise BadRequest(f"unrecognised private key; {_EXPECTED_PRIVATE}")
    return Ed25519PrivateKey.from_private_bytes(seed)


def _from_raw(raw: bytes) -> Ed25519PublicKey:
    try:
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as exc:
        raise BadRequest(f"not a valid Ed25519 public key: {exc}") from exc


def _load_jwk(text: str) -> Ed25519PublicKey:
    try:
        jwk: Any = json.loads(text)
    except ValueError as exc:
        raise BadRequest(f"public key looks like JSON but does not parse: {exc}") from exc
    if not isinstance(jwk, dict):
        raise BadRequest(f"JWK must be a JSON object; {_EXPECTED_PUBLIC}")
    if "keys" in jwk:
        raise BadRequest("got a JWK Set; pass a single JWK (one element of 'keys')")
    if "d" in jwk:
        raise BadRequest(
            "JWK contains the private key ('d'); send only the public key and treat this "
            "key as compromised if it left your systems"
        )
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        raise BadRequest(
            f"got a JWK with kty={jwk.get('kty')!r} crv={jwk.get('crv')!r}; "
            "expected kty 'OKP' and crv 'Ed25519'"
        )
    if jwk.get("alg", "EdDSA") not in ("EdDSA", "Ed25519"):
        raise BadRequest(f"JWK alg {jwk['alg']!r} is not usable for Ed25519 signatures")
    if jwk.get("use", "sig") != "sig":
        raise BadRequest(f"JWK use {jwk['use']!r}: the key must be meant for signatures")
    x = jwk.get("x")
    try:
        raw = b64url_decode(x) if isinstance(x, str) else b""
    except ValueError as exc:
        raise BadRequest(f"JWK 'x' is not base64url without padding: {exc}") from exc
    if len(raw) != 32:
        raise BadRequest("JWK 'x' must be a 32-byte Ed25519 public key in base64url")
    key = _from_raw(raw)
    if "kid" in jwk and jwk["kid"] != kid_for(key):
        raise BadRequest(
            f"JWK kid {jwk['kid']!r} is not the key's RFC 7638 thumbprint ({kid_for(key)}); "
            "cityshield identifies keys by thumbprint"
        )
    return key


def load_public_key(data: bytes | str) -> Ed25519PublicKey:
    """Load a member's verification key from PEM SubjectPublicKeyInfo, raw base64url, or JWK."""
    text = _text(data, "public key")
    if "-----BEGIN" in text:
        if "PRIVATE KEY-----" in text:
            raise BadRequest(
                "got a private key; send the public key only (cityshield keygen writes both)"
            )
        try:
            key = load_pem_public_key(text.encode("ascii"))
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise BadRequest(f"cannot load public key PEM: {exc}; {_EXPECTED_PUBLIC}") from exc
        if not isinstance(key, Ed25519PublicKey):
            raise BadRequest(f"got {_kind(key)}; {_EXPECTED_PUBLIC}")
        return key
    if text.startswith("{"):
        return _load_jwk(text)
    if _B64URL_32_RE.fullmatch(text):
        try:
            return _from_raw(b64url_decode(text))
        except ValueError as exc:
            raise BadRequest(f"public key is not valid base64url: {exc}") from exc
    raise BadRequest(f"unrecognised public key; {_EXPECTED_PUBLIC}")
