"""What each feed vouches for: one ``feed_item`` row per value (list feeds) or upstream
object (TAXII feeds), with the feed's object for it and that object's latest version.

A list pull compares the list with these rows (new, still listed, gone); a TAXII pull
skips an upstream version it already holds, which is what makes a server that repeats
objects (an inclusive ``added_after``, a page boundary inside one ``date_added``) harmless.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from cityshield.bulk import chunks, conflict_insert
from cityshield.feeds.models import FeedItem


@dataclass
class Item:
    key: str
    object_id: str
    generation: int
    created_us: int
    version_us: int
    active: bool


def load_items(session: Session, feed_id: int) -> dict[bytes, Item]:
    """Every item of a feed, by key digest (a list feed compares the whole list)."""
    return _items(session, feed_id)


def items_for(session: Session, feed_id: int, digests: Iterable[bytes]) -> dict[bytes, Item]:
    """The items of these keys (a TAXII page's upstream ids)."""
    found: dict[bytes, Item] = {}
    for chunk in chunks(sorted(set(digests))):
        found.update(_items(session, feed_id, col(FeedItem.key_digest).in_(list(chunk))))
    return found


def _items(session: Session, feed_id: int, *where: Any) -> dict[bytes, Item]:
    """The feed's items (those matching ``where``) by key digest, read into :class:`Item`
    in its fields' order."""
    query = select(
        col(FeedItem.key_digest),
        col(FeedItem.key),
        col(FeedItem.object_id),
        col(FeedItem.generation),
        col(FeedItem.created_us),
        col(FeedItem.version_us),
        col(FeedItem.active),
    ).where(col(FeedItem.feed_id) == feed_id, *where)
    return {bytes(row[0]): Item(*row[1:]) for row in session.execute(query)}


def save_items(session: Session, feed_id: int, items: dict[bytes, Item]) -> None:
    """Insert or update these items (one executemany)."""
    if not items:
        return
    statement: Any = conflict_insert(session, FeedItem)
    statement = statement.on_conflict_do_update(
        index_elements=["feed_id", "key_digest"],
        set_={
            name: statement.excluded[name]
            for name in ("key", "object_id", "generation", "created_us", "version_us", "active")
        },
    )
    rows = [
        {"feed_id": feed_id, "key_digest": digest, **vars(item)} for digest, item in items.items()
    ]
    for chunk in chunks(rows, 1000):
        session.execute(statement, list(chunk))
