"""What every CLI command needs: settings, an upgraded database, and a session."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from cityshield.config import Settings, get_settings
from cityshield.db import make_engine, session_scope, sqlite_file
from cityshield.errors import CityShieldError
from cityshield.migrate import current_revision, head_revision, upgrade


class NoHubDatabase(CityShieldError):
    """There is no usable hub database where the settings point."""

    title = "No hub database"


@contextmanager
def hub_session(settings: Settings | None = None) -> Iterator[Session]:
    """A committed-on-success session on an upgraded database; errors exit with status 1."""
    with hub_engine(settings) as engine, session_scope(engine) as session:
        yield session


@contextmanager
def hub_engine(settings: Settings | None = None) -> Iterator[Engine]:
    """An upgraded database, for commands that open several transactions (a feed pull
    opens one per batch); errors exit with status 1."""
    settings = settings or get_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.effective_database_url)
    try:
        upgrade(engine)
        yield engine
    except CityShieldError as exc:
        typer.echo(f"error: {exc.description}", err=True)
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()


@contextmanager
def existing_hub_session(settings: Settings | None = None) -> Iterator[Session]:
    """A read-only session on a hub database that already exists at the current schema.

    Creates, migrates and commits nothing, and raises :class:`NoHubDatabase` otherwise:
    commands a city runs on its own systems (``verify``) may use a local hub if there is
    one, but must not leave a hub database behind in a directory that is not a hub's.
    """
    settings = settings or get_settings()
    url = settings.effective_database_url
    path = sqlite_file(url)
    where = str(path) if path else "CITYSHIELD_DATABASE_URL"
    if url.startswith("sqlite") and (path is None or not path.is_file()):
        raise NoHubDatabase(f"no hub database at {where}")
    engine = make_engine(url)
    try:
        try:
            revision = current_revision(engine)
        except SQLAlchemyError as exc:
            raise NoHubDatabase(f"cannot open the hub database at {where}: {exc}") from exc
        if revision is None:
            raise NoHubDatabase(f"no hub database at {where}")
        if revision != head_revision():
            raise NoHubDatabase(
                f"the hub database at {where} has an older schema (`cityshield init` upgrades it)"
            )
        with Session(engine) as session:
            yield session
            session.rollback()
    finally:
        engine.dispose()


def print_json(value: Any) -> None:
    """Machine-readable output on stdout: one JSON document, nothing else."""
    sys.stdout.write(json.dumps(value, indent=2) + "\n")
