"""Bulk inserts that cost what the database needs, not a round trip per row.

SQLAlchemy hands an INSERT with many parameter sets to psycopg 3 as a pipelined
``executemany``: one protocol message set and one Python adaptation pass per row, about
50 us a row in the client (profiled). On PostgreSQL rows therefore go in with
``COPY ... FROM STDIN``, adapted in psycopg's C extension (audience rows for a 500-object
envelope: 28 -> 17 ms). On SQLite, whose ``executemany`` is a C loop over one prepared
statement, they go in as before.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import Table, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from cityshield.db import is_postgres

T = TypeVar("T")
IN_LIST = 500
"""Values bound in one IN list: far below SQLite's 32,766 and cheap to plan."""


def chunks(items: Sequence[T], size: int = IN_LIST) -> Iterator[Sequence[T]]:
    """``items`` in consecutive slices of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def insert_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts keyed by column name, all with the same keys) into ``table``.

    COPY applies no Python-side column defaults: a row must give every column that has
    no server-side default (an autoincrement key may be left out).
    """
    if not rows:
        return
    if not is_postgres(session.get_bind()):
        session.execute(insert(table), rows)
        return
    names = list(rows[0])
    session.flush()  # pending ORM writes go first, as with session.execute
    driver = session.connection().connection.driver_connection
    columns = ", ".join(f'"{name}"' for name in names)
    statement = f'COPY "{table.name}" ({columns}) FROM STDIN'
    with driver.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
        for row in rows:
            copy.write_row([row[name] for name in names])


def conflict_insert(session: Session, model: Any) -> Any:
    """An INSERT for ``model`` that takes ``on_conflict_do_nothing/do_update`` (both
    dialects spell ON CONFLICT the same way; SQLAlchemy builds it per dialect)."""
    dialect = postgresql if is_postgres(session.get_bind()) else sqlite
    return dialect.insert(model)
