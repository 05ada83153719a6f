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

Errors (all HTTP 400, each with a machine ``reason`` that is also put in ``details``)::

    CityShieldError
    └── SignatureError              reason "signature-error" (key-registry errors subclass it too)
        ├── MissingSignature        reason "missing-signature"
        ├── MalformedSignature      reason "malformed-signature"
        ├── InvalidSignature        reason "signature-invalid"
        └── NotCanonicalizable      reason "not-canonicalizable"
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import math
import multiprocessing
import os
import re
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from cityshield.errors import CityShieldError
from cityshield.signing.jcs import canonical_json
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
    "PARALLEL_THRESHOLD",
    "SIGNATURE_ALG",
    "SIGNATURE_EXTENSION_ID",
    "SIGNATURE_PROPERTY",
    "InvalidSignature",
    "MalformedSignature",
    "MissingSignature",
    "NotCanonicalizable",
    "SignatureError",
    "b64url_decode",
    "b64url_encode",
    "kid_for",
    "public_jwk",
    "read_signature",
    "shutdown_pool",
    "sign_object",
    "signing_input",
    "start_pool",
    "verify_many",
    "verify_object",
]

JSONObject = dict[str, Any]

_SIG_LEN = 64
_KID_LEN = 32  # SHA-256 digest

#: Batches larger than this are verified in a process pool (when more than one core is usable).
PARALLEL_THRESHOLD = 256


# --------------------------------------------------------------------------------------------
# Errors


class SignatureError(CityShieldError):
    """An object's signature cannot be accepted.

    Kept generic on purpose: the key registry (unknown kid, revoked, expired, another member's
    key) subclasses it with its own ``reason``.
    """

    http_status, title = 400, "Signature rejected"
    reason: str = "signature-error"

    def __init__(self, description: str = "", **details: str) -> None:
        details.setdefault("reason", self.reason)
        super().__init__(description, **details)


class MissingSignature(SignatureError):
    title, reason = "Missing signature", "missing-signature"


class MalformedSignature(SignatureError):
    title, reason = "Malformed signature", "malformed-signature"


class InvalidSignature(SignatureError):
    title, reason = "Invalid signature", "signature-invalid"


class NotCanonicalizable(SignatureError):
    """The object has no RFC 8785 form, so no signature over it can be computed or checked."""

    title, reason = "Object cannot be canonicalised", "not-canonicalizable"


def _details(obj: object) -> dict[str, str]:
    if isinstance(obj, dict) and isinstance(obj.get("id"), str):
        return {"object_id": obj["id"]}
    return {}


# --------------------------------------------------------------------------------------------
# Encodings and key ids

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


def _raw(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


@functools.lru_cache(maxsize=4096)
def _kid_for_raw(raw: bytes) -> str:
    # RFC 7638 §3: required members only, lexicographic order, no whitespace, i.e. JCS.
    members = {"crv": "Ed25519", "kty": "OKP", "x": b64url_encode(raw)}
    return b64url_encode(hashlib.sha256(rfc8785.dumps(members)).digest())


def kid_for(public_key: Ed25519PublicKey) -> str:
    """RFC 7638 JWK thumbprint of the key: a kid anyone can recompute from the key alone,
    so no registry is needed to agree on key names."""
    return _kid_for_raw(_raw(public_key))


def public_jwk(public_key: Ed25519PublicKey, *, kid: str | None = None) -> JSONObject:
    """RFC 8037 OKP JWK for publishing in a JWKS, so other implementations can verify."""
    raw = _raw(public_key)
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": b64url_encode(raw),
        "kid": kid if kid is not None else _kid_for_raw(raw),
        "alg": "EdDSA",
        "use": "sig",
    }


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
            **_details(obj),
        ) from exc
    except rfc8785.CanonicalizationError as exc:
        raise NotCanonicalizable(
            f"object has no RFC 8785 canonical form: {exc}", **_details(obj)
        ) from exc
    except RecursionError as exc:
        raise NotCanonicalizable("object is nested too deeply", **_details(obj)) from exc


# --------------------------------------------------------------------------------------------
# Sign / read / verify


def sign_object(obj: JSONObject, private_key: Ed25519PrivateKey) -> JSONObject:
    """Return a signed copy of ``obj``; the input is never mutated.

    Key order is kept and the entry is placed last in ``extensions`` (or, on an
    extension-definition, in ``x_cityshield_signature``), replacing an old signature, so the
    output diffs cleanly against what the author wrote. The copy is shallow: nested values
    are shared with the input.
    """
    if not isinstance(obj, dict):
        raise NotCanonicalizable("a signed STIX object must be a JSON object")
    if not signed_in_property(obj) and not isinstance(obj.get("extensions", {}), dict):
        raise MalformedSignature("'extensions' must be a JSON object", **_details(obj))
    signature = private_key.sign(signing_input(obj))
    kid = _kid_for_raw(_raw(private_key.public_key()))
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
    details = _details(obj)
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


def _prepare(obj: JSONObject, public_key: Ed25519PublicKey) -> tuple[bytes, bytes, bytes]:
    """Everything but the Ed25519 check: (raw public key, signing input, signature)."""
    kid, signature = read_signature(obj)
    raw = _raw(public_key)
    expected = _kid_for_raw(raw)
    if kid != expected:
        # kid is outside the signed content; binding it to the verifying key keeps audit
        # records ("signed by kid X") truthful.
        raise InvalidSignature(
            f"kid {kid} does not identify the verifying key (its kid is {expected})",
            **_details(obj),
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


def _invalid(obj: JSONObject, kid: str) -> InvalidSignature:
    return InvalidSignature(INVALID_SIGNATURE_MESSAGE, **_details(obj), kid=kid)


def verify_object(obj: JSONObject, public_key: Ed25519PublicKey) -> None:
    """Raise a :class:`SignatureError` unless ``obj`` carries a valid signature by
    ``public_key``."""
    raw, data, signature = _prepare(obj, public_key)
    try:
        public_key.verify(signature, data)
    except _CryptoInvalidSignature:
        raise _invalid(obj, _kid_for_raw(raw)) from None


def _verify_one(obj: JSONObject, public_key: Ed25519PublicKey) -> SignatureError | None:
    try:
        verify_object(obj, public_key)
    except SignatureError as exc:
        return exc
    return None


# --------------------------------------------------------------------------------------------
# Batch verification

_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _get_pool() -> ProcessPoolExecutor:
    """Create the shared pool on first use.

    forkserver (where available) rather than fork: the hub process runs threads (server,
    DB pools), and forking a threaded process can leave a child holding a dead lock.
    """
    global _pool
    with _pool_lock:
        if _pool is None:
            methods = multiprocessing.get_all_start_methods()
            ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
            _pool = ProcessPoolExecutor(max_workers=_usable_cpus(), mp_context=ctx)
        return _pool


def _discard_pool(pool: ProcessPoolExecutor) -> None:
    """Drop a broken pool, unless another thread already replaced it."""
    global _pool
    with _pool_lock:
        if _pool is pool:
            _pool = None
    pool.shutdown(wait=False, cancel_futures=True)


def start_pool() -> None:
    """Start the verification workers now (app start-up), so the first large envelope does
    not pay for process start-up."""
    if _usable_cpus() >= 2:
        pool = _get_pool()
        list(pool.map(_verify_chunk, [[]] * _usable_cpus()))


def shutdown_pool() -> None:
    """Stop the verification workers (call from app shutdown; they restart on demand)."""
    global _pool
    with _pool_lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


@functools.lru_cache(maxsize=4096)
def _public_key_from_raw(raw: bytes) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(raw)


def _verify_chunk(jobs: Sequence[tuple[bytes, bytes, bytes]]) -> list[bool]:
    """Worker side: plain bytes in, booleans out, so nothing but bytes crosses processes."""
    results = []
    for raw, data, signature in jobs:
        try:
            _public_key_from_raw(raw).verify(signature, data)
        except _CryptoInvalidSignature:
            results.append(False)
        else:
            results.append(True)
    return results


def _chunks(n: int, workers: int) -> Iterator[range]:
    size = max(64, math.ceil(n / (workers * 4)))
    for start in range(0, n, size):
        yield range(start, min(start + size, n))


def verify_many(
    items: Sequence[tuple[JSONObject, Ed25519PublicKey]],
) -> list[SignatureError | None]:
    """Verify a batch; result ``i`` is ``None`` (valid) or the error for ``items[i]``.

    Ed25519 verification (~100 µs) dominates ingest of large envelopes, so batches above
    :data:`PARALLEL_THRESHOLD` fan out to a process pool. The parent computes the JCS input
    (which needs the Python objects) chunk by chunk while workers check earlier chunks.
    This call blocks; from async code run it in a thread. Workers start with forkserver or
    spawn, which re-import ``__main__``: scripts calling this need an
    ``if __name__ == "__main__":`` guard.
    """
    workers = _usable_cpus()
    if len(items) <= PARALLEL_THRESHOLD or workers < 2:
        return [_verify_one(obj, key) for obj, key in items]

    results: list[SignatureError | None] = [None] * len(items)
    pending: list[tuple[list[int], list[tuple[bytes, bytes, bytes]], Future[list[bool]] | None]]
    pending = []
    shared: ProcessPoolExecutor | None = None
    try:
        shared = _get_pool()
    except (OSError, NotImplementedError):  # pragma: no cover - e.g. no /dev/shm
        shared = None
    pool = shared
    for chunk in _chunks(len(items), workers):
        indexes: list[int] = []
        jobs: list[tuple[bytes, bytes, bytes]] = []
        for i in chunk:
            obj, key = items[i]
            try:
                jobs.append(_prepare(obj, key))
            except SignatureError as exc:
                results[i] = exc
            else:
                indexes.append(i)
        future: Future[list[bool]] | None = None
        if pool is not None and jobs:
            try:
                future = pool.submit(_verify_chunk, jobs)
            except (BrokenProcessPool, RuntimeError):  # broken, or shut down meanwhile
                pool = None
        pending.append((indexes, jobs, future))

    for indexes, jobs, future in pending:
        outcome: list[bool] | None = None
        if future is not None:
            try:
                outcome = future.result()
            except BrokenProcessPool:
                if shared is not None:
                    _discard_pool(shared)  # a worker died; start afresh next time
            except CancelledError:  # shutdown_pool() ran meanwhile
                pass
        if outcome is None:
            outcome = _verify_chunk(jobs)  # fall back to this process
        for i, job, ok in zip(indexes, jobs, outcome, strict=True):
            if not ok:
                results[i] = _invalid(items[i][0], _kid_for_raw(job[0]))
    return results
