"""Why a signature is refused: the error tree of the signing domain.

Errors (all HTTP 400, each with a machine ``reason`` that is also put in ``details``)::

    CityShieldError
    └── SignatureError              reason "signature-error" (key-registry errors subclass it too)
        ├── MissingSignature        reason "missing-signature"
        ├── MalformedSignature      reason "malformed-signature"
        ├── InvalidSignature        reason "signature-invalid"
        └── NotCanonicalizable      reason "not-canonicalizable"
"""

from __future__ import annotations

from cityshield.errors import CityShieldError

__all__ = [
    "InvalidSignature",
    "MalformedSignature",
    "MissingSignature",
    "NotCanonicalizable",
    "SignatureError",
    "object_details",
]


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


def object_details(obj: object) -> dict[str, str]:
    """The ``details`` that name the refused object, so a batch's errors say which one."""
    if isinstance(obj, dict) and isinstance(obj.get("id"), str):
        return {"object_id": obj["id"]}
    return {}
