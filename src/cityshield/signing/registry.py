"""The member key registry: add, list, revoke keys; decide whether a key may sign now.

A member may hold several keys at once (rotation overlap). A key signs for exactly one
member; the hub's own key has no member.

Errors (all :class:`SignatureError`, HTTP 400, with a machine ``reason``)::

    UnknownKey            "unknown-kid"
    KeyOfAnotherMember    "key-of-another-member"
    KeyRevoked            "key-revoked"
    KeyNotYetValid        "key-not-yet-valid"
    KeyExpired            "key-expired"
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlmodel import Session, col

from cityshield.errors import BadRequest, Conflict, NotFound
from cityshield.members.service import get_member_or_raise
from cityshield.signing.errors import SignatureError
from cityshield.signing.jwk import b64url_decode, b64url_encode, kid_for, public_jwk, public_key_raw
from cityshield.signing.keys import load_public_key
from cityshield.signing.models import SigningKey
from cityshield.store.models import Member
from cityshield.timefmt import now_micros


class UnknownKey(SignatureError):
    title, reason = "Unknown signing key", "unknown-kid"


class KeyOfAnotherMember(SignatureError):
    title, reason = "Key of another member", "key-of-another-member"


class KeyRevoked(SignatureError):
    title, reason = "Signing key revoked", "key-revoked"


class KeyNotYetValid(SignatureError):
    title, reason = "Signing key not yet valid", "key-not-yet-valid"


class KeyExpired(SignatureError):
    title, reason = "Signing key expired", "key-expired"


def public_key_of(key: SigningKey) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(b64url_decode(key.public_key))


def register_key(
    session: Session,
    *,
    public_key: Ed25519PublicKey,
    member_id: int | None,
    not_before_us: int | None = None,
    not_after_us: int | None = None,
) -> SigningKey:
    """Store a public key for a member (or the hub); Conflict if the kid is registered."""
    kid = kid_for(public_key)
    if session.get(SigningKey, kid) is not None:
        raise Conflict(f"Key {kid} is already registered.")
    now = now_micros()
    start = now if not_before_us is None else not_before_us
    if not_after_us is not None and not_after_us <= start:
        raise BadRequest("--not-after must be later than --not-before.")
    key = SigningKey(
        kid=kid,
        member_id=member_id,
        public_key=b64url_encode(public_key_raw(public_key)),
        not_before_us=start,
        not_after_us=not_after_us,
        created_us=now,
    )
    session.add(key)
    session.flush()
    return key


def add_member_key(
    session: Session,
    *,
    member_name: str,
    key_data: bytes | str,
    not_before_us: int | None = None,
    not_after_us: int | None = None,
) -> SigningKey:
    """Register a member's public key given as PEM, raw base64url or JWK."""
    member = get_member_or_raise(session, member_name)
    return register_key(
        session,
        public_key=load_public_key(key_data),
        member_id=member.id,
        not_before_us=not_before_us,
        not_after_us=not_after_us,
    )


def get_key(session: Session, kid: str) -> SigningKey | None:
    return session.get(SigningKey, kid)


def get_key_or_raise(session: Session, kid: str) -> SigningKey:
    key = get_key(session, kid)
    if key is None:
        raise NotFound(f"No key {kid!r} is registered.")
    return key


def list_keys(
    session: Session, *, member_name: str | None = None, kid: str | None = None
) -> list[tuple[SigningKey, str]]:
    """Keys with their owner's name ("hub" for the hub's own key)."""
    query = select(SigningKey, col(Member.name)).outerjoin(
        Member, col(Member.id) == col(SigningKey.member_id)
    )
    if member_name is not None:
        query = query.where(col(Member.name) == member_name)
    if kid is not None:
        query = query.where(col(SigningKey.kid) == kid)
    rows = session.execute(query.order_by(col(SigningKey.created_us))).all()
    return [(key, name or "hub") for key, name in rows]


def revoke_key(
    session: Session, *, kid: str, compromised_since_us: int | None = None
) -> SigningKey:
    """Revoke a key now. With ``compromised_since_us`` every object it signed that the hub
    received from then on is quarantined: gone from every read path until lifted."""
    key = get_key_or_raise(session, kid)
    now = now_micros()
    key.revoked_us = key.revoked_us or now
    if compromised_since_us is not None:
        key.compromised_since_us = compromised_since_us
    session.add(key)
    session.flush()
    return key


def lift_quarantine(session: Session, *, kid: str) -> SigningKey:
    """Bring back the objects a compromised-key revocation hid; the key stays revoked."""
    key = get_key_or_raise(session, kid)
    key.compromised_since_us = None
    session.add(key)
    session.flush()
    return key


def keys_by_kid(session: Session, kids: Iterable[str]) -> dict[str, SigningKey]:
    wanted = sorted(set(kids))
    if not wanted:
        return {}
    rows = session.execute(select(SigningKey).where(col(SigningKey.kid).in_(wanted))).scalars()
    return {key.kid: key for key in rows}


def check_key_usable(key: SigningKey | None, *, kid: str, member_id: int, at_us: int) -> None:
    """Raise the precise reason a key may not sign for ``member_id`` at ``at_us``."""
    if key is None:
        raise UnknownKey(f"No key {kid} is registered with the hub.", kid=kid)
    if key.member_id != member_id:
        raise KeyOfAnotherMember(f"Key {kid} is not registered to the submitting member.", kid=kid)
    if key.revoked_us is not None and key.revoked_us <= at_us:
        raise KeyRevoked(f"Key {kid} has been revoked.", kid=kid)
    if at_us < key.not_before_us:
        raise KeyNotYetValid(f"Key {kid} is not valid yet.", kid=kid)
    if key.not_after_us is not None and at_us >= key.not_after_us:
        raise KeyExpired(f"Key {kid} has expired.", kid=kid)


def jwks_document(session: Session, *, hub_identity_id: str | None) -> dict[str, Any]:
    """Every registered key as a JWK with its validity (``nbf``/``exp``/``revoked_at``/
    ``compromised_since`` in epoch seconds) and the STIX identity it signs for."""
    identities = dict(
        session.execute(select(col(Member.id), col(Member.identity_id))).tuples().all()
    )
    keys = []
    for key, _owner in list_keys(session):
        jwk = public_jwk(public_key_of(key), kid=key.kid)
        jwk["nbf"] = key.not_before_us // 1_000_000
        optional = {
            "exp": key.not_after_us,
            "revoked_at": key.revoked_us,
            "compromised_since": key.compromised_since_us,
        }
        jwk.update({name: us // 1_000_000 for name, us in optional.items() if us is not None})
        jwk["identity"] = identities.get(key.member_id) if key.member_id else hub_identity_id
        keys.append(jwk)
    return {"keys": keys}
