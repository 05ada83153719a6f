"""Creating and listing TAXII collections.

Collection ids are UUIDv5 of the alias, so a re-initialised hub keeps the ids that
members' TAXII clients have configured.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlmodel import Session, col

from cityshield.errors import BadRequest, CollectionNotFound, Conflict
from cityshield.members.caller import COLLECTION_ROLES
from cityshield.store.models import Collection

COLLECTION_NAMESPACE = uuid.UUID("6f1c3a52-3d1e-4c55-9a0e-c1d5e1e5a002")

SUBMISSIONS_ALIAS = "submissions"
"""Members' originals, each exactly as signed; what is written here feeds the network view."""
NETWORK_ALIAS = "network"
"""One hub-authored indicator per real-world IOC, with its corroboration (read-only)."""
HUB_ALIAS = "hub"
"""The hub's and members' identities, the TLP marking-definitions and the
extension-definitions members' tools need (read-only; ``publications.py``)."""


def collection_id_for(alias: str) -> str:
    return str(uuid.uuid5(COLLECTION_NAMESPACE, alias))


def _check_roles(roles: list[str]) -> str:
    unknown = [role for role in roles if role not in COLLECTION_ROLES]
    if unknown:
        raise BadRequest(
            f"Unknown role(s) {', '.join(unknown)}; roles are {', '.join(COLLECTION_ROLES)}."
        )
    return ",".join(roles)


def create_collection(
    session: Session,
    *,
    alias: str,
    title: str,
    description: str = "",
    read_roles: list[str],
    write_roles: list[str],
) -> Collection:
    if session.execute(select(Collection).where(col(Collection.alias) == alias)).first():
        raise Conflict(f"A collection with alias {alias!r} already exists.")
    collection = Collection(
        id=collection_id_for(alias),
        alias=alias,
        title=title,
        description=description,
        read_roles=_check_roles(read_roles),
        write_roles=_check_roles(write_roles),
    )
    session.add(collection)
    session.flush()
    return collection


def ensure_collection(
    session: Session,
    *,
    alias: str,
    title: str,
    description: str,
    read_roles: list[str],
    write_roles: list[str],
) -> Collection:
    """Create a built-in collection unless it exists (``init`` is idempotent)."""
    existing: Collection | None = session.execute(
        select(Collection).where(col(Collection.alias) == alias)
    ).scalar_one_or_none()
    if existing is not None:
        return existing
    return create_collection(
        session,
        alias=alias,
        title=title,
        description=description,
        read_roles=read_roles,
        write_roles=write_roles,
    )


def list_all_collections(session: Session) -> list[Collection]:
    """Every collection, for administration (TAXII listings go through the policy layer)."""
    return list(session.execute(select(Collection).order_by(Collection.alias)).scalars())


def get_collection_by_alias(session: Session, alias: str) -> Collection:
    collection: Collection | None = session.execute(
        select(Collection).where(col(Collection.alias) == alias)
    ).scalar_one_or_none()
    if collection is None:
        raise CollectionNotFound(f"No collection with alias {alias!r}; run `cityshield init`.")
    return collection


def get_collection_or_raise(session: Session, collection_id: str) -> Collection:
    """Find a collection by id (or by alias, a convenience for people typing URLs)."""
    collection = (
        session.get(Collection, collection_id)
        or session.execute(
            select(Collection).where(col(Collection.alias) == collection_id)
        ).scalar_one_or_none()
    )
    if collection is None:
        raise CollectionNotFound(f"No collection {collection_id!r} on this API root.")
    return collection
