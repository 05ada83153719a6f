"""The CLI contract other tools script against: JSON on stdout, stable command names."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import Session

from cityshield.db import make_engine
from cityshield.members.service import caller_for_token
from cityshield.store.collections import HUB_ALIAS, collection_id_for
from cityshield.store.models import StixObject


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
    assert "open http://127.0.0.1:8000/ui/ and sign in as northport" in out.stderr, "the web page"
    creds = json.loads((home / "demo-credentials.json").read_text())
    assert {"northport", "lakeside", "hub-admin", "soc-analyst"} <= set(creds)
    assert stat.S_IMODE((home / "demo-credentials.json").stat().st_mode) == 0o600
    run(home, "demo")
    assert json.loads((home / "demo-credentials.json").read_text()) == creds
    members = json.loads(run(home, "member", "list", "--json").stdout)
    groups = {m["name"]: m["groups"] for m in members}
    assert groups["northport"] == ["north"] and groups["lakeside"] == ["south"]


def test_key_registry_commands(home: Path, tmp_path: Path) -> None:
    from cityshield.signing.jwk import kid_for
    from cityshield.signing.keys import generate_private_key, public_key_to_pem

    run(home, "init")
    run(home, "member", "add", "northport")
    key = generate_private_key()
    pem = tmp_path / "northport.pub.pem"
    pem.write_bytes(public_key_to_pem(key.public_key()))
    added = json.loads(
        run(home, "key", "add", "northport", str(pem), "--not-after", "2030-01-01T00:00:00Z").stdout
    )
    assert added["kid"] == kid_for(key.public_key())
    assert added["not_after"].startswith("2030-01-01T00:00:00")
    again = run(home, "key", "add", "northport", str(pem), ok=False)
    assert again.returncode == 1 and "already registered" in again.stderr
    listed = json.loads(run(home, "key", "list", "northport").stdout)
    assert [k["kid"] for k in listed] == [added["kid"]]
    everyone = json.loads(run(home, "key", "list").stdout)
    assert {k["member"] for k in everyone} == {"northport", "hub"}
    revoked = json.loads(
        run(
            home, "key", "revoke", added["kid"], "--compromised-since", "2026-11-20T00:00:00Z"
        ).stdout
    )
    assert revoked["revoked_at"] and revoked["compromised_since"].startswith("2026-11-20")
    lifted = json.loads(run(home, "key", "lift-quarantine", added["kid"]).stdout)
    assert lifted["compromised_since"] is None and lifted["revoked_at"]
    bad = run(home, "key", "revoke", added["kid"], "--compromised-since", "soon", ok=False)
    assert bad.returncode == 1 and "RFC 3339" in bad.stderr
    rsa = tmp_path / "rsa.pem"
    rsa.write_text(
        "-----BEGIN PUBLIC KEY-----\nMFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBAL\n-----END PUBLIC KEY-----\n"
    )
    refused = run(home, "key", "add", "northport", str(rsa), ok=False)
    assert refused.returncode == 1


def _hub_identity_versions(home: Path, identity_id: str) -> list[dict]:
    engine = make_engine(f"sqlite:///{home / 'cityshield.db'}")
    with Session(engine) as session:
        bodies = session.execute(
            select(StixObject.body)
            .where(
                StixObject.collection_id == collection_id_for(HUB_ALIAS),
                StixObject.object_id == identity_id,
            )
            .order_by(StixObject.version_us)
        ).scalars()
        versions = [json.loads(body) for body in bodies]
    engine.dispose()
    return versions


def test_member_add_and_remove_publish_the_identity(home: Path) -> None:
    early = json.loads(run(home, "member", "add", "earlytown").stdout)  # before init
    assert _hub_identity_versions(home, early["identity_id"]) == []
    run(home, "init")
    assert [v["name"] for v in _hub_identity_versions(home, early["identity_id"])] == ["earlytown"]
    added = json.loads(run(home, "member", "add", "northport").stdout)
    [published] = _hub_identity_versions(home, added["identity_id"])
    assert published["name"] == "northport" and published["identity_class"] == "organization"
    run(home, "member", "remove", "northport")
    assert [v.get("revoked") for v in _hub_identity_versions(home, added["identity_id"])] == [
        None,
        True,
    ]
    again = run(home, "member", "add", "northport", ok=False)
    assert again.returncode == 1 and "revoked" in again.stderr
