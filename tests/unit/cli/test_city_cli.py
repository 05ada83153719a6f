"""City-side commands without a hub: keygen, sign, verify (JWKS file and local registry)."""

from __future__ import annotations

import json
import re
import stat
import time
from pathlib import Path
from typing import Any

import pytest
import typer
from click.testing import Result
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from cityshield.cli import city
from cityshield.cli.context import hub_session
from cityshield.config import Settings
from cityshield.members.service import create_member
from cityshield.signing.jwk import kid_for, public_jwk
from cityshield.signing.keys import (
    generate_private_key,
    load_private_key,
    load_public_key,
    private_key_to_pem,
    public_key_to_pem,
)
from cityshield.signing.registry import add_member_key
from cityshield.signing.scheme import (
    SIGNATURE_EXTENSION_ID,
    read_signature,
    sign_object,
    verify_object,
)
from tests.utils.cli import cli_settings
from tests.utils.stix import indicator, tlp_green_definition

IDENTITY = "identity--f431f809-377b-45e0-aa1c-6a4751cae5ff"
OTHER_IDENTITY = "identity--0b5b2f2e-7d67-4b1c-9a0e-8d8cfa3cf0a1"
TLP_GREEN = tlp_green_definition()

app = typer.Typer()
for _name in ("keygen", "sign", "verify", "submit"):
    app.command(_name)(getattr(city, _name))


def run(*args: str | Path, input: str | None = None) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args], input=input)


def write_json(path: Path, value: Any) -> Path:
    path.write_text(json.dumps(value), encoding="utf-8")
    return path


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return generate_private_key()


@pytest.fixture
def key_file(tmp_path: Path, key: Ed25519PrivateKey) -> Path:
    path = tmp_path / "city.pem"
    path.write_bytes(private_key_to_pem(key))
    return path


def signed_bundle(result: Result) -> list[dict[str, Any]]:
    assert result.exit_code == 0, result.stderr
    bundle = json.loads(result.stdout)
    assert bundle["type"] == "bundle"
    assert re.fullmatch(r"bundle--[0-9a-f-]{36}", bundle["id"])
    return bundle["objects"]


def jwks_file(tmp_path: Path, key: Ed25519PrivateKey, **extra: Any) -> Path:
    jwk = {
        **public_jwk(key.public_key()),
        "nbf": int(time.time()) - 3600,
        "identity": IDENTITY,
        **extra,
    }
    return write_json(tmp_path / "jwks.json", {"keys": [jwk]})


def verify_lines(result: Result) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines()]


# ------------------------------------------------------------------------------------ keygen


def test_keygen_writes_private_key_0600_and_public_key(tmp_path: Path) -> None:
    out = json.loads(run("keygen", "--out", tmp_path / "city").stdout)
    private_path, public_path = Path(out["private_key"]), Path(out["public_key"])
    assert private_path == tmp_path / "city.pem" and public_path == tmp_path / "city.pub.pem"
    assert stat.S_IMODE(private_path.stat().st_mode) == 0o600
    private = load_private_key(private_path.read_bytes())
    public = load_public_key(public_path.read_bytes())
    assert out["kid"] == kid_for(private.public_key()) == kid_for(public)
    assert out["jwk"] == public_jwk(public)


def test_keygen_refuses_to_overwrite_unless_forced(tmp_path: Path) -> None:
    first = json.loads(run("keygen", "--out", tmp_path / "city").stdout)
    before = (tmp_path / "city.pem").read_bytes()
    again = run("keygen", "--out", tmp_path / "city")
    assert again.exit_code == 1 and "exists" in again.stderr and "--force" in again.stderr
    assert (tmp_path / "city.pem").read_bytes() == before
    (tmp_path / "city.pem").chmod(0o644)
    forced = run("keygen", "--out", tmp_path / "city", "--force")
    assert forced.exit_code == 0, forced.stderr
    assert json.loads(forced.stdout)["kid"] != first["kid"]
    assert stat.S_IMODE((tmp_path / "city.pem").stat().st_mode) == 0o600


# -------------------------------------------------------------------------------------- sign


@pytest.mark.parametrize("shape", ["bundle", "envelope", "list", "single"])
def test_sign_accepts_every_input_shape(
    shape: str, tmp_path: Path, key: Ed25519PrivateKey, key_file: Path
) -> None:
    objects = [indicator(), indicator()] if shape != "single" else [indicator()]
    document: Any = {
        "bundle": {"type": "bundle", "id": "bundle--1b0e3f0c-5c3c-4f0e-9f0a-2e1b6f1e8c11"},
        "envelope": {"more": False},
        "list": objects,
        "single": objects[0],
    }[shape]
    if shape in ("bundle", "envelope"):
        document["objects"] = objects
    signed = signed_bundle(run("sign", "--key", key_file, write_json(tmp_path / "in", document)))
    assert [o["id"] for o in signed] == [o["id"] for o in objects]
    for original, obj in zip(objects, signed, strict=True):
        verify_object(obj, key.public_key())
        assert list(obj) == [*original, "extensions"]  # key order kept
        assert {k: v for k, v in obj.items() if k != "extensions"} == original


def test_sign_reads_stdin(key: Ed25519PrivateKey, key_file: Path) -> None:
    obj = indicator()
    signed = signed_bundle(run("sign", "--key", key_file, "-", input=json.dumps(obj)))
    verify_object(signed[0], key.public_key())


def test_sign_leaves_tlp_unsigned_and_replaces_old_signatures(
    tmp_path: Path, key: Ed25519PrivateKey, key_file: Path
) -> None:
    other = {"extension-definition--00000000-0000-4000-8000-000000000000": {"x": 1}}
    old = sign_object(indicator(extensions=other), generate_private_key())
    signed = signed_bundle(
        run("sign", "--key", key_file, write_json(tmp_path / "in", [TLP_GREEN, old]))
    )
    assert signed[0] == TLP_GREEN
    verify_object(signed[1], key.public_key())
    assert read_signature(signed[1])[0] == kid_for(key.public_key())
    assert list(signed[1]["extensions"]) == [*other, SIGNATURE_EXTENSION_ID]


def test_sign_identity_sets_created_by_ref_only_where_missing(
    tmp_path: Path, key: Ed25519PrivateKey, key_file: Path
) -> None:
    mine, theirs = indicator(), indicator(created_by_ref=OTHER_IDENTITY)
    sco = {
        "type": "ipv4-addr",
        "spec_version": "2.1",
        "id": "ipv4-addr--6da8dad3-4de3-5f8e-ab23-45d0b8f12f94",
        "value": "198.51.100.7",
    }
    path = write_json(tmp_path / "in", [mine, theirs, sco])
    signed = signed_bundle(run("sign", "--key", key_file, "--identity", IDENTITY, path))
    assert signed[0]["created_by_ref"] == IDENTITY
    assert list(signed[0])[:4] == ["type", "spec_version", "id", "created_by_ref"]
    assert signed[1]["created_by_ref"] == OTHER_IDENTITY
    assert "created_by_ref" not in signed[2]  # SCOs have no created_by_ref
    for obj in signed:
        verify_object(obj, key.public_key())
    bad = run("sign", "--key", key_file, "--identity", "northport", path)
    assert bad.exit_code == 1 and "identity--" in bad.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read"),
        ("{not json", "not valid JSON"),
        ("[1, 2]", "not a STIX object"),
        ('"text"', "no STIX objects"),
        ('{"objects": 3}', "no STIX objects"),
    ],
)
def test_sign_input_errors_exit_1(
    tmp_path: Path, key_file: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "in.json"
    if content is not None:
        path.write_text(content)
    result = run("sign", "--key", key_file, path)
    assert result.exit_code == 1
    assert message in result.stderr and result.stdout == ""
    assert isinstance(result.exception, SystemExit)


def test_sign_bad_key_exits_1(tmp_path: Path) -> None:
    path = write_json(tmp_path / "in", indicator())
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a key")
    for key_path, message in [(garbage, "unrecognised private key"), (tmp_path / "no", "read")]:
        result = run("sign", "--key", key_path, path)
        assert result.exit_code == 1 and message in result.stderr


def test_sign_refuses_uncanonicalizable_objects(tmp_path: Path, key_file: Path) -> None:
    path = write_json(tmp_path / "in", indicator(x_count=2**60))
    result = run("sign", "--key", key_file, path)
    assert result.exit_code == 1 and "2**53" in result.stderr


# ------------------------------------------------------------------------------------ verify


def sign_file(tmp_path: Path, key: Ed25519PrivateKey, *objects: dict[str, Any]) -> Path:
    signed = [o if o is TLP_GREEN else sign_object(o, key) for o in objects]
    return write_json(tmp_path / "signed.json", {"type": "bundle", "objects": signed})


def test_verify_all_ok(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    objects = [indicator(created_by_ref=IDENTITY), indicator(), TLP_GREEN]
    result = run("verify", "--jwks", jwks_file(tmp_path, key), sign_file(tmp_path, key, *objects))
    assert result.exit_code == 0, result.stdout
    lines = verify_lines(result)
    kid = kid_for(key.public_key())
    assert lines == [
        {"id": objects[0]["id"], "kid": kid, "ok": True, "reason": None},
        {"id": objects[1]["id"], "kid": kid, "ok": True, "reason": None},
        {"id": TLP_GREEN["id"], "kid": None, "ok": True, "reason": "predefined marking, unsigned"},
    ]


def test_verify_tampered_and_unsigned_objects_fail(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    good, bad = sign_object(indicator(), key), sign_object(indicator(), key)
    bad["name"] = "edited after signing"
    unsigned = indicator()
    path = write_json(tmp_path / "in.json", [good, bad, unsigned])
    result = run("verify", "--jwks", jwks_file(tmp_path, key), path)
    assert result.exit_code == 1
    lines = verify_lines(result)
    assert [line["ok"] for line in lines] == [True, False, False]
    assert "changed after signing" in lines[1]["reason"]
    assert lines[2]["kid"] is None and "no 'extensions'" in lines[2]["reason"]


def test_verify_unknown_kid(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    path = sign_file(tmp_path, generate_private_key(), indicator())
    result = run("verify", "--jwks", jwks_file(tmp_path, key), path)
    assert result.exit_code == 1
    [line] = verify_lines(result)
    assert line["ok"] is False and "unknown kid" in line["reason"]


@pytest.mark.parametrize(
    ("extra", "word"),
    [
        ({"revoked_at": 1_700_000_000}, "revoked"),
        ({"revoked_at": 1_700_000_000, "compromised_since": 1_600_000_000}, "compromised"),
        ({"exp": 1_700_000_000}, "expired"),
    ],
)
def test_verify_revoked_or_expired_key_needs_allow_revoked(
    tmp_path: Path, key: Ed25519PrivateKey, extra: dict[str, int], word: str
) -> None:
    path = sign_file(tmp_path, key, indicator())
    jwks = jwks_file(tmp_path, key, **extra)
    refused = run("verify", "--jwks", jwks, path)
    assert refused.exit_code == 1
    [line] = verify_lines(refused)
    assert line["ok"] is False and word in line["reason"]
    allowed = run("verify", "--jwks", jwks, "--allow-revoked", path)
    assert allowed.exit_code == 0
    [line] = verify_lines(allowed)
    assert line["ok"] is True and line["reason"].startswith("warning:") and word in line["reason"]


def test_verify_key_revoked_in_the_future_is_fine(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    path = sign_file(tmp_path, key, indicator())
    jwks = jwks_file(tmp_path, key, exp=int(time.time()) + 3600)
    assert run("verify", "--jwks", jwks, path).exit_code == 0


def test_verify_identity_mismatch(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    path = sign_file(tmp_path, key, indicator(created_by_ref=OTHER_IDENTITY))
    result = run("verify", "--jwks", jwks_file(tmp_path, key), path)
    assert result.exit_code == 1
    [line] = verify_lines(result)
    assert line["ok"] is False and OTHER_IDENTITY in line["reason"] and IDENTITY in line["reason"]


def test_verify_bad_jwks_exits_1(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    path = sign_file(tmp_path, key, indicator())
    not_jwks = write_json(tmp_path / "nojwks.json", {"kty": "OKP"})
    for source in (not_jwks, tmp_path / "missing.json", "http://127.0.0.1:9/jwks.json"):
        result = run("verify", "--jwks", source, path)
        assert result.exit_code == 1 and "JWKS" in result.stderr and result.stdout == ""


def test_verify_uses_local_hub_registry(
    tmp_path: Path, key: Ed25519PrivateKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "hub"
    with cli_settings(monkeypatch, home=home):
        with hub_session(Settings(home=home)) as session:
            creds = create_member(session, name="northport")
            add_member_key(
                session, member_name="northport", key_data=public_key_to_pem(key.public_key())
            )
        mine = indicator(created_by_ref=creds.identity_id)
        path = sign_file(tmp_path, key, mine)
        result = run("verify", path)
        assert result.exit_code == 0, result.output
        assert verify_lines(result)[0]["ok"] is True
        claimed = sign_file(tmp_path, key, indicator(created_by_ref=OTHER_IDENTITY))
        assert run("verify", claimed).exit_code == 1


@pytest.mark.parametrize("home_exists", [False, True], ids=["no-home", "empty-home"])
def test_verify_without_jwks_or_hub_database_fails_and_creates_nothing(
    tmp_path: Path, key: Ed25519PrivateKey, monkeypatch: pytest.MonkeyPatch, home_exists: bool
) -> None:
    """A city's system is not a hub: verify there must not leave a hub database behind."""
    home = tmp_path / "city-home"
    if home_exists:
        home.mkdir()
    path = sign_file(tmp_path, key, indicator())
    with cli_settings(monkeypatch, home=home):
        result = run("verify", path)
    assert result.exit_code == 1, result.output
    assert "no hub database" in result.stderr and "--jwks URL|FILE" in result.stderr
    assert result.stdout == ""
    if home_exists:
        assert list(home.iterdir()) == []
    else:
        assert not home.exists()
