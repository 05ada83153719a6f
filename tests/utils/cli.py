"""Running ``cityshield`` commands in the test process, as typer's runner runs them (a
subprocess costs seconds of imports each), with the settings the test names."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner

from cityshield.cli.main import app
from cityshield.config import get_settings

if TYPE_CHECKING:  # the server's imports are the whole app: unit tests need none of it
    from tests.utils.server import Hub


@contextmanager
def cli_settings(
    monkeypatch: pytest.MonkeyPatch, *, home: Path, database_url: str | None = None, **env: str
) -> Iterator[None]:
    """Commands run meanwhile read these settings: ``home``, ``database_url`` (else the
    home's SQLite file, whatever the environment said) and the other ``CITYSHIELD_*``
    variables in ``env``. The cached settings are dropped on the way in and out, so no
    command reads another test's."""
    monkeypatch.setenv("CITYSHIELD_HOME", str(home))
    monkeypatch.delenv("CITYSHIELD_DATABASE_URL", raising=False)
    if database_url:
        monkeypatch.setenv("CITYSHIELD_DATABASE_URL", database_url)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        yield
    finally:
        get_settings.cache_clear()


@contextmanager
def hub_cli_settings(monkeypatch: pytest.MonkeyPatch, hub: Hub, **env: str) -> Iterator[None]:
    """Commands run meanwhile work on this hub (its home and database)."""
    with cli_settings(
        monkeypatch, home=hub.settings.home, database_url=hub.settings.database_url, **env
    ):
        yield


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def cli(*args: str, ok: bool = True, **env: str) -> Ran:
    """Run one command (``env``: variables for it alone); with ``ok``, it must succeed.
    An exception other than the command's exit is raised here, with its traceback."""
    result = CliRunner().invoke(app, list(args), env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    ran = Ran(result.exit_code, result.stdout, result.stderr)
    if ok:
        assert ran.returncode == 0, ran.stderr
    return ran
