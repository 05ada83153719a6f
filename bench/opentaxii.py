"""OpenTAXII 0.9.3 in TAXII 2.1 mode on SQLite, under gunicorn, as its docs run it.

Configured as ``docs/installation/configuration.rst`` and ``examples/taxii2/`` of the
OpenTAXII repository say: a YAML file named by ``OPENTAXII_CONFIG`` with a ``taxii2``
persistence API (``Taxii2SQLDatabaseAPI``, SQLite files in a temp dir), ``taxii1``
disabled, basic auth on; an API root, one collection and one account created through its
persistence and auth APIs (``python -m bench.opentaxii setup``: 0.9.3's
``opentaxii-create-account --admin`` ignores ``--admin``, and its
``opentaxii-add-api-root`` prints no id to hand to ``opentaxii-add-collection``); then
``gunicorn bench.opentaxii_app:app --config python:bench.opentaxii_app`` with gunicorn's
defaults (one sync worker), as ``docs/installation/running.rst`` shows. The app is
OpenTAXII's own with the upstream fix for its UUID responses (``bench/opentaxii_app.py``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

from bench.servers import ROOT, stop_process, wait_until_up
from tests.utils.postgres import free_port

OPENTAXII_USER = ("bench", "bench-password")
NOTE = (
    "OpenTAXII 0.9.3 runs with one fix, upstream's (PR #289, unreleased): as released, its "
    "TAXII 2.1 mode answers every objects POST with a 500 (Object of type UUID is not JSON "
    "serializable, issue #243) after storing them; bench/opentaxii_app.py serialises UUIDs."
)


def write_config(workdir: Path, port: int) -> Path:
    config = {
        "domain": f"127.0.0.1:{port}",
        "support_basic_auth": True,
        "return_server_error_details": True,
        "auth_api": {
            "class": "opentaxii.auth.sqldb.SQLDatabaseAPI",
            "parameters": {
                "db_connection": f"sqlite:///{workdir / 'auth.db'}",
                "create_tables": True,
                "secret": "bench-secret-bench-secret-bench-secret-0123456789",
                "token_ttl_secs": 3600,
            },
        },
        "taxii1": None,
        "taxii2": {
            "persistence_api": {
                "class": "opentaxii.persistence.sqldb.Taxii2SQLDatabaseAPI",
                "parameters": {
                    "db_connection": f"sqlite:///{workdir / 'data.db'}",
                    "create_tables": True,
                },
            },
            "title": "bench",
            "max_content_length": 200 * 1024 * 1024,
        },
        "logging": {"opentaxii": "warning", "root": "warning"},
    }
    path = workdir / "opentaxii.yml"
    path.write_text(yaml.safe_dump(config))
    return path


def setup() -> None:
    """In a process with ``OPENTAXII_CONFIG`` set: the API root, collection and admin
    account; prints ``{"api_root": ..., "collection": ...}``."""
    from opentaxii.cli import app  # reads OPENTAXII_CONFIG

    with app.app_context():
        persistence = app.taxii_server.servers.taxii2.persistence.api
        root = persistence.add_api_root(title="bench", description="bench", default=True)
        collection = persistence.add_collection(api_root_id=root.id, title="bench")
        app.taxii_server.auth.api.create_account(
            username=OPENTAXII_USER[0], password=OPENTAXII_USER[1], is_admin=True
        )
    print(json.dumps({"api_root": str(root.id), "collection": str(collection.id)}))


def _environment(config: Path) -> dict[str, str]:
    env = dict(os.environ, OPENTAXII_CONFIG=str(config))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def _no_control_socket() -> list[str]:
    """Recent gunicorn opens a control socket under $HOME unless told not to."""
    import gunicorn.config

    return ["--no-control-socket"] if hasattr(gunicorn.config, "ControlSocketDisable") else []


@contextmanager
def opentaxii_server(workdir: Path) -> Iterator[str]:
    """Yields the objects URL of its one collection."""
    workdir = workdir / "opentaxii"
    workdir.mkdir()
    port = free_port()
    env = _environment(write_config(workdir, port))
    created = subprocess.run(
        [sys.executable, "-m", "bench.opentaxii", "setup"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    ids = json.loads(created.stdout.strip().splitlines()[-1])
    base_url = f"http://127.0.0.1:{port}"
    gunicorn = Path(sys.executable).with_name("gunicorn")
    with (workdir / "gunicorn.log").open("w") as log:
        proc = subprocess.Popen(
            [
                str(gunicorn),
                "bench.opentaxii_app:app",
                "--bind",
                f"127.0.0.1:{port}",
                "--config",
                "python:bench.opentaxii_app",
                *_no_control_socket(),
            ],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=log,
        )
    try:
        wait_until_up(f"{base_url}/taxii2/", proc, OPENTAXII_USER, "OpenTAXII")
        yield f"{base_url}/taxii2/{ids['api_root']}/collections/{ids['collection']}/objects/"
    finally:
        stop_process(proc)


if __name__ == "__main__":
    if sys.argv[1:] == ["setup"]:
        setup()
    else:
        raise SystemExit("usage: python -m bench.opentaxii setup")
