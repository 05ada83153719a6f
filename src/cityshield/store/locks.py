"""The per-collection write lock, which makes ``date_added`` strictly increasing in commit
order: every writer and deleter of a collection's objects takes it first."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlmodel import Session, col

from cityshield.store.models import Collection


def lock_collection(session: Session, collection_id: str) -> int:
    """Take the per-collection write lock and return the date_added high-water mark.

    The UPDATE takes a row lock on PostgreSQL and the write lock on SQLite, held to
    commit: writers to one collection commit in date_added order, so a reader paging with
    ``added_after`` can never miss a row that commits late. It also counts the lock's
    holders (``locks_taken``, see :func:`locks_taken`).
    """
    session.execute(
        update(Collection)
        .where(col(Collection.id) == collection_id)
        .values(locks_taken=col(Collection.locks_taken) + 1)
    )
    return int(
        session.execute(
            select(col(Collection.last_added_us)).where(col(Collection.id) == collection_id)
        ).scalar_one()
    )


def locks_taken(session: Session, collection_id: str) -> int:
    """How many writers have taken the collection's lock, as this transaction sees it.

    Read in a snapshot, then again right after :func:`lock_collection`: if the second is
    the first plus one, no other writer committed in between, so what was read is still
    what is stored.
    """
    return int(
        session.execute(
            select(col(Collection.locks_taken)).where(col(Collection.id) == collection_id)
        ).scalar_one()
    )
