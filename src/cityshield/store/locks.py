"""The per-collection write lock, which makes ``date_added`` strictly increasing in commit
order: every writer and deleter of a collection's objects takes it first."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlmodel import Session, col

from cityshield.store.models import Collection


def lock_collection(session: Session, collection_id: str) -> int:
    """Take the per-collection write lock and return the date_added high-water mark.

    The no-op UPDATE takes a row lock on PostgreSQL and the write lock on SQLite, held to
    commit: writers to one collection commit in date_added order, so a reader paging with
    ``added_after`` can never miss a row that commits late.
    """
    session.execute(
        update(Collection)
        .where(col(Collection.id) == collection_id)
        .values(last_added_us=Collection.last_added_us)
    )
    return int(
        session.execute(
            select(col(Collection.last_added_us)).where(col(Collection.id) == collection_id)
        ).scalar_one()
    )
