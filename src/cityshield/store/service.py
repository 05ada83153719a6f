"""Reading and deleting stored STIX objects, always through the policy base query.

Pages are keyset pages on the strictly increasing per-collection ``date_added``: no OFFSET,
so page cost is flat however many objects are stored, and a reader following ``next``
never skips or repeats an object.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Select, delete, func, select, update
from sqlmodel import Session

from cityshield.bulk import chunks
from cityshield.errors import BadRequest, CollectionNotFound, ObjectNotFound
from cityshield.members.caller import Caller
from cityshield.policy import service as policy
from cityshield.store.models import Collection, StixObject
from cityshield.taxii.cursor import decode_cursor, encode_cursor
from cityshield.taxii.filters import Filters


@dataclass(frozen=True)
class Page:
    """One keyset page: the selected rows (date_added last in each), and where to go next."""

    rows: list[tuple[Any, ...]]
    more: bool
    next: str | None

    @property
    def first_added_us(self) -> int | None:
        return self.rows[0][-1] if self.rows else None

    @property
    def last_added_us(self) -> int | None:
        return self.rows[-1][-1] if self.rows else None


def get_collection_or_raise(session: Session, collection_id: str) -> Collection:
    """Find a collection by id (or by alias, a convenience for people typing URLs)."""
    collection = (
        session.get(Collection, collection_id)
        or session.execute(
            select(Collection).where(Collection.alias == collection_id)
        ).scalar_one_or_none()
    )
    if collection is None:
        raise CollectionNotFound(f"No collection {collection_id!r} on this API root.")
    return collection


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


def _keyset_page(
    session: Session, query: Select[Any], filters: Filters, source: Any = StixObject
) -> Page:
    """Run ``query`` (whose last column is date_added_us) as one keyset page."""
    after = filters.added_after_us
    if filters.next_token:
        position = decode_cursor(filters.next_token, filters.fingerprint)
        after = position if after is None else max(after, position)
    if after is not None:
        query = query.where(source.date_added_us > after)
    limit = filters.limit or 1
    # Core execution on the session's connection: this is the hot path of every read, and
    # the ORM layer adds ~1.5 ms a page for rows that are plain tuples anyway.
    result = session.connection().execute(query.order_by(source.date_added_us).limit(limit + 1))
    rows = [tuple(row) for row in result]
    more = len(rows) > limit
    rows = rows[:limit]
    token = encode_cursor(rows[-1][-1], filters.fingerprint) if more else None
    return Page(rows=rows, more=more, next=token)


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
    return _keyset_page(
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
        session, caller=caller, collection=collection, filters=_with_id(filters, object_id)
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


def delete_object(
    session: Session,
    *,
    caller: Caller,
    collection: Collection,
    object_id: str,
    filters: Filters,
    before_delete: Callable[[Session, list[int]], None] | None = None,
) -> list[int]:
    """Delete the matching versions of an object (admin only); returns their row keys.

    The first/latest flags of what remains are recomputed in the same transaction so
    ``match[version]`` stays right after a partial delete. ``before_delete`` gets the row
    keys first (the network view withdraws what deleted originals contributed).
    """
    policy.require_admin(caller)
    if policy.object_source(caller, collection) is not StixObject:
        raise BadRequest("Network indicators are withdrawn, not deleted (flows.deletion).")
    scoped = _with_id(filters, object_id)
    query = scoped.apply(policy.visible_objects(caller, collection, StixObject.pk))
    pks = [row[0] for row in session.execute(query)]
    if not pks:
        raise ObjectNotFound(f"No object {object_id!r} matching the filters in this collection.")
    lock_collection(session, collection.id)
    if before_delete is not None:
        before_delete(session, pks)
    session.execute(delete(StixObject).where(StixObject.pk.in_(pks)))  # type: ignore[union-attr]
    refresh_version_flags(session, collection_id=collection.id, object_ids=[object_id])
    return pks


_OBJECTS = StixObject.__table__  # type: ignore[attr-defined]


def refresh_version_flags(session: Session, *, collection_id: str, object_ids: list[str]) -> None:
    """Recompute is_first/is_latest for the given objects from what is stored.

    One set-based UPDATE per 500 ids with correlated MIN/MAX (Core, on the connection):
    republishing thousands of network indicators must not cost one statement each.
    """
    other = _OBJECTS.alias("other")

    def bound(aggregate: Any) -> Any:
        return (
            select(aggregate(other.c.version_us))
            .where(
                other.c.collection_id == _OBJECTS.c.collection_id,
                other.c.object_id == _OBJECTS.c.object_id,
            )
            .scalar_subquery()
        )

    for chunk in chunks(object_ids):
        session.connection().execute(
            update(_OBJECTS)
            .where(
                _OBJECTS.c.collection_id == collection_id,
                _OBJECTS.c.object_id.in_(chunk),
            )
            .values(
                is_first=_OBJECTS.c.version_us == bound(func.min),
                is_latest=_OBJECTS.c.version_us == bound(func.max),
            )
        )


def lock_collection(session: Session, collection_id: str) -> int:
    """Take the per-collection write lock and return the date_added high-water mark.

    The no-op UPDATE takes a row lock on PostgreSQL and the write lock on SQLite, held to
    commit: writers to one collection commit in date_added order, so a reader paging with
    ``added_after`` can never miss a row that commits late.
    """
    session.execute(
        update(Collection)
        .where(Collection.id == collection_id)
        .values(last_added_us=Collection.last_added_us)
    )
    return int(
        session.execute(
            select(Collection.last_added_us).where(Collection.id == collection_id)
        ).scalar_one()
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


def _with_id(filters: Filters, object_id: str) -> Filters:
    return replace(filters, ids=(object_id,))
