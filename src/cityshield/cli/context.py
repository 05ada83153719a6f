"""What every CLI command needs: settings, an upgraded database, and a session."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from sqlmodel import Session

from cityshield.config import Settings, get_settings
from cityshield.db import make_engine, session_scope
from cityshield.errors import CityShieldError
from cityshield.migrate import upgrade


@contextmanager
def hub_session(settings: Settings | None = None) -> Iterator[Session]:
    """A committed-on-success session on an upgraded database; errors exit with status 1."""
    settings = settings or get_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.effective_database_url)
    try:
        upgrade(engine)
        with session_scope(engine) as session:
            yield session
    except CityShieldError as exc:
        typer.echo(f"error: {exc.description}", err=True)
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()


def print_json(value: Any) -> None:
    """Machine-readable output on stdout: one JSON document, nothing else."""
    sys.stdout.write(json.dumps(value, indent=2) + "\n")
