"""Alembic environment: targets SQLModel.metadata; the URL comes from the caller."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from cityshield.db import make_engine
from cityshield.tables import metadata

config = context.config
target_metadata = metadata


def run_migrations() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        _run(connectable)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection: Connection) -> None:
    """Run the migrations in one transaction.

    On SQLite, batch operations rebuild a table (create a copy, move the rows, drop the
    old one); with foreign keys enforced, dropping the old table would cascade-delete every
    row referencing it (contributions of network IOCs, say). So enforcement is off while
    migrating, and the foreign keys are checked before the transaction commits instead.
    """
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        _pragma(connection, "PRAGMA foreign_keys=OFF")  # only outside a transaction
    try:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                if broken:
                    raise RuntimeError(f"migration left dangling references: {broken[:5]}")
    finally:
        if sqlite:
            _pragma(connection, "PRAGMA foreign_keys=ON")


def _pragma(connection: Connection, statement: str) -> None:
    if connection.in_transaction():
        connection.commit()
    connection.exec_driver_sql(statement)
    connection.commit()


run_migrations()
