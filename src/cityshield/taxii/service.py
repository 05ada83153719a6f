"""What the TAXII endpoints read: collections, object pages, manifests, versions, status.

Every read of STIX content starts from the policy's base query
(``policy.service.visible_objects``), narrowed by the request's filters and run as a keyset
page (``store.keyset``): an endpoint cannot leak an object by forgetting a filter.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from cityshield.errors import ObjectNotFound, StatusNotFound
from cityshield.members.caller import Caller
from cityshield.policy import service as policy
from cityshield.store.filters import Filters
from cityshield.store.keyset import Page, keyset_page
from cityshield.store.models import Collection, Status, StixObject


def list_collections(session: Session, caller: Caller) -> list[tuple[Collection, bool, bool]]:
    """Collections the caller can read or write, with its rights on each."""
    rows = session.execute(select(Collection).order_by(Collection.title)).scalars().all()
    result = []
    for collection in rows:
        readable, writable = (
            policy.can_read(caller, collection),
            policy.can_write(caller, collection),
        )
        if readable or writable:
            result.append((collection, readable, writable))
    return result


def _page(
    session: Session,
    caller: Caller,
    collection: Collection,
    filters: Filters,
    *columns: Any,
    versions: bool = True,
    object_id: str | None = None,
) -> Page:
    """One keyset page of ``columns`` (date_added last) of what the caller may see."""
    source = policy.object_source(caller, collection)
    query = policy.visible_objects(caller, collection, *columns)
    if object_id is not None:
        query = query.where(source.object_id == object_id)
    return keyset_page(
        session, filters.apply(query, versions=versions, source=source), filters, source
    )


def list_objects(
    session: Session, *, caller: Caller, collection: Collection, filters: Filters
) -> Page:
    """Rows of (body, date_added_us) for the objects endpoint."""
    return _page(session, caller, collection, filters, StixObject.body, StixObject.date_added_us)


def get_object(
    session: Session, *, caller: Caller, collection: Collection, object_id: str, filters: Filters
) -> Page:
    """Versions of one object as (body, date_added_us); 404 when the caller sees none."""
    page = list_objects(
        session, caller=caller, collection=collection, filters=filters.for_object(object_id)
    )
    if not page.rows and not filters.next_token:
        _require_exists(session, caller, collection, object_id)
    return page


def list_versions(
    session: Session, *, caller: Caller, collection: Collection, object_id: str, filters: Filters
) -> Page:
    """(version_us, date_added_us) of every version of one object, oldest first."""
    page = _page(
        session,
        caller,
        collection,
        filters,
        StixObject.version_us,
        StixObject.date_added_us,
        versions=False,
        object_id=object_id,
    )
    if not page.rows and not filters.next_token:
        _require_exists(session, caller, collection, object_id)
    return page


def get_manifest(
    session: Session, *, caller: Caller, collection: Collection, filters: Filters
) -> Page:
    """(object_id, version_us, date_added_us) rows for the manifest endpoint."""
    return _page(
        session,
        caller,
        collection,
        filters,
        StixObject.object_id,
        StixObject.version_us,
        StixObject.date_added_us,
    )


def _require_exists(
    session: Session, caller: Caller, collection: Collection, object_id: str
) -> None:
    source = policy.object_source(caller, collection)
    query = policy.visible_objects(caller, collection, StixObject.pk).where(
        source.object_id == object_id
    )
    if session.execute(query.limit(1)).first() is None:
        raise ObjectNotFound(f"No object {object_id!r} in this collection.")


def get_status_or_raise(session: Session, *, caller: Caller, status_id: str) -> Status:
    """A status is its submitter's (and admins'); to anyone else it does not exist."""
    status = session.get(Status, status_id)
    if status is None or not (caller.is_admin or status.member_id == caller.member_id):
        raise StatusNotFound(f"No status {status_id!r}.")
    return status
