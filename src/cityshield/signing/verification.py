"""Signature checks at ingest: every object a member submits must be signed by one of that
member's keys, valid at receipt, and must not claim another author.

Runs after structural validation, before anything is written; produces a reason per
object so the status resource says exactly why an object was refused.
"""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlmodel import Session

from cityshield.members.caller import Caller
from cityshield.signing.errors import SignatureError
from cityshield.signing.pool import verify_many
from cityshield.signing.registry import check_key_usable, keys_by_kid, public_key_of
from cityshield.signing.scheme import read_signature
from cityshield.stix.vocabulary import is_predefined_marking


def signature_reasons(
    session: Session, *, caller: Caller, objects: list[dict[str, Any]], at_us: int
) -> tuple[list[str | None], list[str | None]]:
    """For each object: (reason it is refused or None, kid that signed it or None)."""
    reasons: list[str | None] = [None] * len(objects)
    kids: list[str | None] = [None] * len(objects)
    pending: list[int] = []
    for i, obj in enumerate(objects):
        if is_predefined_marking(obj):
            continue
        creator = obj.get("created_by_ref")
        if creator is not None and creator != caller.identity_id:
            reasons[i] = (
                f"created_by_ref {creator} is not the submitting member's identity "
                f"{caller.identity_id} (reason: created-by-ref-mismatch)"
            )
            continue
        try:
            kids[i], _ = read_signature(obj)
        except SignatureError as exc:
            reasons[i] = _reason(exc)
            continue
        pending.append(i)
    registry = keys_by_kid(session, (kid for i in pending if (kid := kids[i])))
    to_verify: list[tuple[int, dict[str, Any], Ed25519PublicKey]] = []
    for i in pending:
        kid = kids[i] or ""
        key = registry.get(kid)
        try:
            check_key_usable(key, kid=kid, member_id=caller.member_id, at_us=at_us)
        except SignatureError as exc:
            reasons[i] = _reason(exc)
            continue
        assert key is not None
        to_verify.append((i, objects[i], public_key_of(key)))
    outcomes = verify_many([(obj, key) for _, obj, key in to_verify])
    for (i, _, _), error in zip(to_verify, outcomes, strict=True):
        if error is not None:
            reasons[i] = _reason(error)
    return reasons, kids


def _reason(error: SignatureError) -> str:
    return f"{error.description} (reason: {error.reason})"
