"""The CLI contract other tools script against: JSON on stdout, stable command names."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import Session

from cityshield.db import make_engine
from cityshield.members.service import caller_for_token


def run(home: Path, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CITYSHIELD_HOME": str(home)}
    env.pop("CITYSHIELD_DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "cityshield.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if ok:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "hub"


def _caller(home: Path, token: str):  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{home / 'cityshield.db'}")
    with Session(engine) as session:
        caller = caller_for_token(session, token=token)
    engine.dispose()
    return caller


def test_init_is_idempotent_and_keeps_identity(home: Path) -> None:
    first = json.loads(run(home, "init").stdout)
    second = json.loads(run(home, "init").stdout)
    assert first["hub_identity"] == second["hub_identity"]
    assert first["hub_identity"].startswith("identity--")
    key = home / "hub_ed25519.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert b"PRIVATE KEY" in key.read_bytes()


def test_member_lifecycle(home: Path) -> None:
    run(home, "init")
    added = json.loads(
        run(home, "member", "add", "northport", "--group", "north", "--group", "water").stdout
    )
    assert added["name"] == "northport"
    assert added["identity_id"].startswith("identity--")
    caller = _caller(home, added["token"])
    assert caller is not None and caller.groups == frozenset({"north", "water"})
    listed = json.loads(run(home, "member", "list", "--json").stdout)
    assert listed[0]["name"] == "northport" and listed[0]["groups"] == ["north", "water"]
    assert added["token"] not in json.dumps(listed)
    duplicate = run(home, "member", "add", "northport", ok=False)
    assert duplicate.returncode == 1 and "already exists" in duplicate.stderr
    rotated = json.loads(run(home, "member", "rotate-token", "northport").stdout)
    assert rotated["token"] != added["token"]
    assert _caller(home, added["token"]) is None
    assert _caller(home, rotated["token"]) is not None
    run(home, "member", "remove", "northport")
    assert _caller(home, rotated["token"]) is None
    bad_role = run(home, "member", "add", "x", "--role", "king", ok=False)
    assert bad_role.returncode == 1 and "role" in bad_role.stderr


def test_collection_add_and_list(home: Path) -> None:
    run(home, "init")
    added = json.loads(
        run(home, "collection", "add", "water-sector", "--read-role", "member").stdout
    )
    listed = {c["alias"]: c for c in json.loads(run(home, "collection", "list").stdout)}
    assert listed["water-sector"]["id"] == added["id"]
    assert listed["water-sector"]["read_roles"] == ["member"]
    assert listed["water-sector"]["write_roles"] == []
    assert "submissions" in listed


def test_demo_seeds_a_network_once(home: Path) -> None:
    run(home, "init")
    out = run(home, "demo")
    assert "curl" in out.stderr
    creds = json.loads((home / "demo-credentials.json").read_text())
    assert {"northport", "lakeside", "hub-admin", "soc-analyst"} <= set(creds)
    assert stat.S_IMODE((home / "demo-credentials.json").stat().st_mode) == 0o600
    run(home, "demo")
    assert json.loads((home / "demo-credentials.json").read_text()) == creds
    members = json.loads(run(home, "member", "list", "--json").stdout)
    groups = {m["name"]: m["groups"] for m in members}
    assert groups["northport"] == ["north"] and groups["lakeside"] == ["south"]
