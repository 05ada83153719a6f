"""Keyset pages: ``WHERE date_added > cursor ORDER BY date_added LIMIT n+1``, no OFFSET.

``date_added`` is strictly increasing per collection (``store.locks``), so page cost is
flat however many objects are stored, and a reader following ``next`` never skips or
repeats an object. Callers build the query (the policy's base query, narrowed by
``store.filters``); this runs it as one page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select
from sqlmodel import Session

from cityshield.store.cursor import decode_cursor, encode_cursor
from cityshield.store.filters import Filters
from cityshield.store.models import StixObject


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


def keyset_page(
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
