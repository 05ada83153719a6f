"""Database engine and sessions.

SQLite is the embedded default (WAL so readers never wait for the writer, foreign keys on,
a busy timeout so concurrent writers queue instead of failing); PostgreSQL is used by URL
with the same code.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, make_url, text
from sqlmodel import Session

SQLITE_BUSY_TIMEOUT_MS = 30_000


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine with the pragmas and pool settings the hub relies on."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            **kwargs,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True, **kwargs)


def sqlite_file(url: str) -> Path | None:
    """The file an SQLite URL names; None for other backends and in-memory databases.

    Lets a command check that a database exists before connecting, since connecting to
    SQLite creates the file.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def is_postgres(bind: Engine | Connection) -> bool:
    return bind.dialect.name == "postgresql"


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def read_snapshot(session: Session) -> Iterator[None]:
    """Run the block's reads in one consistent snapshot that takes no write lock, and end
    that transaction afterwards (committing nothing: the block must not write).

    For work that reads a lot and writes little, such as the network publisher building
    and signing thousands of indicators: readers never wait for writers nor block them
    (SQLite's WAL, PostgreSQL's MVCC), so ingest proceeds meanwhile, and one snapshot makes
    every read agree with the others. SQLite's driver begins a transaction only before a
    write, so each SELECT would otherwise see its own moment: the block runs inside an
    explicit ``BEGIN``. PostgreSQL's default isolation gives each statement its own
    snapshot: the block runs in a ``REPEATABLE READ, READ ONLY`` transaction (which never
    fails to serialise). A session that has not written anything is handed over; what it
    read so far ends first.
    """
    release_connection(session)
    if is_postgres(session.get_bind()):
        session.connection(
            execution_options={"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
        )
    else:
        session.connection().exec_driver_sql("BEGIN")
    try:
        yield
    except BaseException:
        session.rollback()
        raise
    release_connection(session)


def release_connection(session: Session) -> None:
    """Hand the session's connection back to the pool; its next query takes one again.

    For a request about to wait on the network (reading a body): a connection held
    meanwhile is one the pool cannot give to anyone else, and a few slow clients would
    starve every other request. Only for sessions that have not written anything, since
    ending the transaction commits it.
    """
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("release_connection() on a session with unflushed writes")
    session.commit()


STATISTICS_GROWTH = 1.5
"""A table is analysed again once it has this many times the pages the planner last
counted: each ANALYZE raises the bar, so a load from empty to a million reports analyses
each table about a dozen times (ANALYZE samples a fixed number of rows, ~0.1-1 s a table)."""
STATISTICS_MIN_PAGES = 1024
"""Below this size (8 MiB) any plan is fast enough; autovacuum looks after such tables."""


def refresh_statistics(session: Session, tables: Sequence[str]) -> list[str]:
    """``ANALYZE`` those of ``tables`` that grew by half since the planner last counted
    them (PostgreSQL; SQLite plans well enough without statistics); returns them.

    After a bulk load, autovacuum analyses a table only once a tenth of it changed and
    its next round comes (a minute apart): meanwhile the planner knows nothing of the new
    rows, and a member's first network page took 3.2 s instead of 0.29 s. Growth is read
    from the table's size on disk (``pg_relation_size``, which counts rows not yet
    committed, ours included) against the pages the last ANALYZE or VACUUM counted
    (``pg_class.relpages``): a stat() and a catalogue row, cheap enough for every
    publication pass, and current at once, unlike the statistics collector's counters.
    """
    bind = session.get_bind()
    if not is_postgres(bind):
        return []
    rows = session.execute(
        text(
            "SELECT relname, relpages, pg_relation_size(oid) / "
            "current_setting('block_size')::int FROM pg_class "
            "WHERE relname = ANY(:names) AND relkind = 'r' AND pg_table_is_visible(oid)"
        ),
        {"names": list(tables)},
    ).all()
    grown = sorted(
        name
        for name, counted, pages in rows
        if pages >= STATISTICS_MIN_PAGES and pages >= counted * STATISTICS_GROWTH
    )
    if grown:
        quote = bind.dialect.identifier_preparer.quote
        session.execute(text("ANALYZE " + ", ".join(quote(name) for name in grown)))
    return grown
