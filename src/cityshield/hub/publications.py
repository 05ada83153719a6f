"""What the hub publishes in its read-only ``hub`` collection, kept current idempotently.

- the hub's identity and one identity per member (``members/identity.py``), signed with
  the hub key: members may not publish identities, so these are the only ones a
  ``created_by_ref`` can resolve to. A feed's principal is published with the attribution
  its definition gives (docs/feeds.md);
- the extension-definitions of the signature and corroboration extensions, signed in
  ``x_cityshield_signature`` (STIX gives extension-definitions no ``extensions``);
- the official TLP 1.0 and 2.0 marking-definitions, unsigned, exactly as the standards
  bodies publish them, so every ``object_marking_refs`` resolves.

Each publication compares what should be served with the latest stored version of each id.
Equal, signature included: nothing is written. Different: a new version with a later
``modified`` and the stored ``created`` (a stored (id, version) never gets other content).
So this runs at every start-up, on databases written before it existed (their unsigned
extension-definitions get a signed version), and after every member change. A member no
longer in the database gets a revoked version of its identity; a revoked object gets no new
version ever (STIX 2.1 §3.6: revocation is permanent).
"""

from __future__ import annotations

from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlmodel import Session, col

from cityshield.dedup.publish import corroboration_extension_definition
from cityshield.feeds.models import Feed
from cityshield.jsonvalue import same_json
from cityshield.members.identity import member_identity
from cityshield.policy.audience import write_public_audience
from cityshield.signing.definition import extension_definition
from cityshield.signing.errors import SignatureError
from cityshield.signing.jwk import kid_for
from cityshield.signing.placement import without_signature
from cityshield.signing.scheme import read_signature, sign_object
from cityshield.stix.vocabulary import OFFICIAL_DEFINITIONS
from cityshield.store.collections import HUB_ALIAS, collection_id_for, get_collection_by_alias
from cityshield.store.locks import lock_collection
from cityshield.store.models import Collection, Member, StixObject
from cityshield.store.writer import write_hub_objects
from cityshield.timefmt import format_timestamp, now_micros, parse_timestamp

JSONObject = dict[str, Any]
_MS = 1000


def publish_hub_objects(session: Session, *, key: Ed25519PrivateKey, identity: JSONObject) -> None:
    """Bring every publication of the ``hub`` collection up to date (``ensure_hub``)."""
    collection, latest = _open(session)
    signed = [
        identity,
        *_member_identities(session, hub_identity_id=identity["id"], latest=latest),
        extension_definition(identity["id"], identity["created"]),
        corroboration_extension_definition(identity["id"], identity["created"]),
    ]
    unsigned = [obj for obj in OFFICIAL_DEFINITIONS.values() if obj["id"] not in latest]
    _write(session, collection, key=key, latest=latest, signed=signed, unsigned=unsigned)


def publish_member_identities(
    session: Session, *, key: Ed25519PrivateKey, hub_identity: JSONObject
) -> None:
    """Publish identities of new members and revoke those of removed ones (after a member
    is added or removed)."""
    collection, latest = _open(session)
    signed = _member_identities(session, hub_identity_id=hub_identity["id"], latest=latest)
    _write(session, collection, key=key, latest=latest, signed=signed, unsigned=[])


def identity_revoked(session: Session, identity_id: str) -> bool:
    """Whether the hub has revoked this identity: no member may take its id again, because
    a revoked STIX object gets no new version."""
    body = session.execute(
        select(col(StixObject.body)).where(
            col(StixObject.collection_id) == collection_id_for(HUB_ALIAS),
            col(StixObject.object_id) == identity_id,
            col(StixObject.is_latest),
        )
    ).scalar_one_or_none()
    return body is not None and orjson.loads(body).get("revoked") is True


def _open(session: Session) -> tuple[Collection, dict[str, JSONObject]]:
    """The hub collection, locked before it is read so that two processes starting at once
    (uvicorn workers) cannot both decide to write a new version, and its latest versions."""
    collection = get_collection_by_alias(session, HUB_ALIAS)
    lock_collection(session, collection.id)
    rows = session.execute(
        select(col(StixObject.object_id), col(StixObject.body)).where(
            col(StixObject.collection_id) == collection.id,
            col(StixObject.is_latest),
        )
    )
    return collection, {object_id: orjson.loads(body) for object_id, body in rows}


def _member_identities(
    session: Session, *, hub_identity_id: str, latest: dict[str, JSONObject]
) -> list[JSONObject]:
    """Every member's identity, plus a revoked version of each published identity whose
    member was removed: the hub no longer vouches for it, while objects that name it as
    their creator still resolve to a name."""
    members = session.execute(select(Member).order_by(col(Member.id))).scalars().all()
    attributions = {
        member_id: orjson.loads(text)
        for member_id, text in session.execute(select(col(Feed.member_id), col(Feed.attribution)))
    }
    current = {
        m.identity_id: member_identity(
            m, hub_identity_id=hub_identity_id, attribution=attributions.get(m.id)
        )
        for m in members
    }
    removed = [
        {**without_signature(obj), "revoked": True}
        for object_id, obj in latest.items()
        if obj.get("type") == "identity"
        and obj.get("created_by_ref") == hub_identity_id
        and object_id not in current
    ]
    return [*current.values(), *removed]


def _write(
    session: Session,
    collection: Collection,
    *,
    key: Ed25519PrivateKey,
    latest: dict[str, JSONObject],
    signed: list[JSONObject],
    unsigned: list[JSONObject],
) -> None:
    now_us = now_micros() // _MS * _MS
    versions = [_next_version(obj, latest.get(obj["id"]), key, now_us) for obj in signed]
    written: list[int] = []
    for objects, kid in (
        ([v for v in versions if v is not None], kid_for(key.public_key())),
        (unsigned, None),
    ):
        if objects:
            result = write_hub_objects(session, collection=collection, objects=objects, kid=kid)
            written.extend(item.pk for item in result.written)
    write_public_audience(session, written)


def _next_version(
    obj: JSONObject, stored: JSONObject | None, key: Ed25519PrivateKey, now_us: int
) -> JSONObject | None:
    """The signed version of ``obj`` to write, or None when the stored one already is it:
    the same content (under the stored timestamps) signed with this key."""
    if stored is None:
        return sign_object(obj, key)
    if stored.get("revoked") is True:
        return None
    kept = {**obj, "created": stored["created"]}
    if _signer(stored) == kid_for(key.public_key()) and same_json(
        without_signature(stored), {**kept, "modified": stored["modified"]}
    ):
        return None
    modified_us = max(now_us, parse_timestamp(stored["modified"]) + _MS)
    return sign_object({**kept, "modified": format_timestamp(modified_us)}, key)


def _signer(obj: JSONObject) -> str | None:
    """The kid an object claims to be signed with, or None if it is not signed. Only the hub
    writes the hub collection, so the claim is not re-verified at every start-up."""
    try:
        kid, _ = read_signature(obj)
    except SignatureError:
        return None
    return kid
