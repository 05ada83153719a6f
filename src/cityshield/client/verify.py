"""Checking signed objects against a hub's JWKS, away from the hub.

The verifier cannot know when an object was signed, so a key that is revoked or expired
now casts doubt on everything it signed; and a key signs only for the identity the JWKS
lists for it, so ``created_by_ref`` must name that identity.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cityshield.signing.errors import SignatureError
from cityshield.signing.scheme import read_signature, verify_object
from cityshield.stix.vocabulary import is_predefined_marking

__all__ = ["check_object", "key_problem"]

JSONObject = dict[str, Any]


def _when(epoch: Any) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def key_problem(jwk: JSONObject, now: float) -> str | None:
    """Why the key should not be trusted at ``now`` (epoch seconds), or None."""
    revoked, exp, nbf = jwk.get("revoked_at"), jwk.get("exp"), jwk.get("nbf")
    if isinstance(revoked, int | float) and revoked <= now:
        problem = f"key revoked at {_when(revoked)}"
        since = jwk.get("compromised_since")
        if isinstance(since, int | float):
            problem += f", compromised since {_when(since)}"
        return problem
    if isinstance(exp, int | float) and exp <= now:
        return f"key expired at {_when(exp)}"
    if isinstance(nbf, int | float) and nbf > now:
        return f"key not valid before {_when(nbf)}"
    return None


def check_object(
    obj: JSONObject, jwks: dict[str, JSONObject], *, allow_revoked: bool, now: float
) -> JSONObject:
    """``{"id", "kid", "ok", "reason"}`` for one object, against JWKs by kid as
    :func:`cityshield.client.jwks.usable_keys` returns them."""
    result: JSONObject = {"id": obj.get("id"), "kid": None, "ok": False, "reason": None}
    if is_predefined_marking(obj):
        return {**result, "ok": True, "reason": "predefined marking, unsigned"}
    try:
        result["kid"], _ = read_signature(obj)
        jwk = jwks.get(result["kid"])
        if jwk is None:
            return {**result, "reason": f"unknown kid {result['kid']}: not in the JWKS"}
        verify_object(obj, jwk["_key"])
    except SignatureError as exc:
        return {**result, "reason": exc.description}
    creator, identity = obj.get("created_by_ref"), jwk.get("identity")
    if identity and creator is not None and creator != identity:
        return {
            **result,
            "reason": f"created_by_ref {creator} is not the key's identity {identity}",
        }
    problem = key_problem(jwk, now)
    if problem and not allow_revoked:
        return {**result, "reason": f"{problem}; the signing time cannot be known"}
    return {**result, "ok": True, "reason": f"warning: {problem}" if problem else None}
