"""``cityshield submit`` and ``verify --jwks URL`` against the real hub, on both backends."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer
from click.testing import Result
from sqlalchemy import inspect
from taxii2client.v21 import ApiRoot, as_pages
from typer.testing import CliRunner

from cityshield.cli import city
from cityshield.db import make_engine
from cityshield.signing.keys import generate_private_key, private_key_to_pem
from cityshield.signing.scheme import SIGNATURE_EXTENSION_ID, sign_object
from tests.utils.cli import cli_settings
from tests.utils.postgres import PostgresServer
from tests.utils.server import TAXII, Hub, TestMember
from tests.utils.stix import indicator

app = typer.Typer()
for _name in ("keygen", "sign", "verify", "submit"):
    app.command(_name)(getattr(city, _name))


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args])


def write_json(path: Path, value: Any) -> Path:
    path.write_text(json.dumps(value), encoding="utf-8")
    return path


def key_file(tmp_path: Path, member: TestMember) -> Path:
    path = tmp_path / "city.pem"
    path.write_bytes(private_key_to_pem(member.key))
    return path


def with_creator(obj: dict[str, Any], identity: str) -> dict[str, Any]:
    """``obj`` with created_by_ref right after its id, where submit and sign put it."""
    out: dict[str, Any] = {}
    for name, value in obj.items():
        out[name] = value
        if name == "id":
            out["created_by_ref"] = identity
    return out


def submit(
    hub: Hub, member: TestMember, collection: str, *args: str | Path, url: str | None = None
) -> Result:
    return run(
        "submit",
        "--url",
        url or hub.api_root,
        "--collection",
        collection,
        "--user",
        member.name,
        "--token",
        member.token,
        *args,
    )


def test_submit_signs_batches_and_the_hub_serves_objects_as_signed(
    hub: Hub, tmp_path: Path
) -> None:
    member, collection = hub.member(), hub.collection()
    objects = [indicator() for _ in range(7)]
    path = write_json(tmp_path / "bundle.json", {"type": "bundle", "objects": objects})
    result = submit(
        hub, member, collection, "--key", key_file(tmp_path, member), "--batch", "3", path
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["total"] == 7 and summary["success_count"] == 7
    assert summary["failure_count"] == 0 and summary["failures"] == []
    assert len(summary["status_ids"]) == 3
    response = httpx.get(
        f"{hub.api_root}collections/{collection}/objects/",
        auth=(member.name, member.token),
        headers={"Accept": TAXII},
    )
    response.raise_for_status()
    served = {o["id"]: o for o in response.json()["objects"]}
    # Ed25519 is deterministic; created_by_ref defaults to the key's identity, after "id".
    expected = [sign_object(with_creator(o, member.identity_id), member.key) for o in objects]
    assert len(served) == 7
    for obj in expected:
        assert json.dumps(served[obj["id"]]) == json.dumps(obj)  # same value, same key order


def test_submit_without_identity_sets_created_by_ref_from_the_hub_jwks(
    hub: Hub, tmp_path: Path
) -> None:
    """A city that gives no --identity still gets its objects attributed: submit asks the
    hub's public JWKS which identity the key signs for. Objects that name their author
    and observables (no created_by_ref in STIX) are left as they are."""
    member = hub.member()
    mine, sco = (
        indicator(),
        {
            "type": "ipv4-addr",
            "spec_version": "2.1",
            "id": "ipv4-addr--1f9bd3ce-6d2e-5c3b-9a57-fb4a4b0e3b11",
            "value": "198.51.100.77",
        },
    )
    named = indicator(created_by_ref=member.identity_id)
    path = write_json(tmp_path / "in.json", [mine, named, sco])
    result = submit(hub, member, "submissions", "--key", key_file(tmp_path, member), path)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["success_count"] == 3
    response = httpx.get(
        f"{hub.api_root}collections/submissions/objects/",
        params={"match[id]": ",".join(o["id"] for o in (mine, named, sco))},
        auth=(member.name, member.token),
        headers={"Accept": TAXII},
    )
    response.raise_for_status()
    served = {o["id"]: o for o in response.json()["objects"]}
    assert served[mine["id"]]["created_by_ref"] == member.identity_id
    assert list(served[mine["id"]])[:4] == ["type", "spec_version", "id", "created_by_ref"]
    assert served[named["id"]] == sign_object(named, member.key)
    assert "created_by_ref" not in served[sco["id"]]


def test_submit_with_a_key_the_hub_does_not_list_warns_and_sends_unattributed(
    hub: Hub, tmp_path: Path
) -> None:
    member = hub.member()
    stranger = tmp_path / "stranger.pem"
    stranger.write_bytes(private_key_to_pem(generate_private_key()))
    result = submit(
        hub, member, hub.collection(), "--key", stranger, write_json(tmp_path / "in", indicator())
    )
    assert result.exit_code == 2, result.output
    assert "not in the hub's JWKS" in result.stderr and "cityshield key add" in result.stderr


def test_signed_bundle_goes_by_alias_and_verifies_against_the_hub_jwks(
    hub: Hub, tmp_path: Path
) -> None:
    member = hub.member()
    source = write_json(tmp_path / "in.json", [indicator(), indicator()])
    signed = run(
        "sign", "--key", key_file(tmp_path, member), "--identity", member.identity_id, source
    )
    assert signed.exit_code == 0, signed.output
    bundle = tmp_path / "signed.json"
    bundle.write_text(signed.stdout)
    assert all(
        o["created_by_ref"] == member.identity_id for o in json.loads(signed.stdout)["objects"]
    )
    result = submit(hub, member, "submissions", bundle)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["success_count"] == 2
    verified = run("verify", "--jwks", f"{hub.base_url}/.well-known/jwks.json", bundle)
    assert verified.exit_code == 0, verified.output
    lines = [json.loads(line) for line in verified.stdout.splitlines()]
    assert len(lines) == 2 and all(line["ok"] for line in lines)
    # Another member's identity in created_by_ref is caught by the JWKS identity check.
    other = hub.member()
    forged = write_json(
        tmp_path / "forged.json",
        [sign_object(indicator(created_by_ref=other.identity_id), member.key)],
    )
    mismatch = run("verify", "--jwks", f"{hub.base_url}/.well-known/jwks.json", forged)
    assert mismatch.exit_code == 1 and other.identity_id in mismatch.stdout


def test_submit_unsigned_objects_reports_each_failure(hub: Hub, tmp_path: Path) -> None:
    member = hub.member()
    objects = [indicator() for _ in range(3)]
    result = submit(hub, member, hub.collection(), write_json(tmp_path / "in.json", objects))
    assert result.exit_code == 2, result.output
    summary = json.loads(result.stdout)
    assert summary["success_count"] == 0 and summary["failure_count"] == 3
    assert {f["id"] for f in summary["failures"]} == {o["id"] for o in objects}
    assert all("missing-signature" in f["message"] for f in summary["failures"])
    assert all(f"refused {o['id']}" in result.stderr for o in objects)


def test_submit_with_unregistered_key_is_refused(hub: Hub, tmp_path: Path) -> None:
    member = hub.member()
    stranger = tmp_path / "stranger.pem"
    stranger.write_bytes(private_key_to_pem(generate_private_key()))
    path = write_json(tmp_path / "in.json", [indicator()])
    result = submit(hub, member, hub.collection(), "--key", stranger, path)
    assert result.exit_code == 2, result.output
    [failure] = json.loads(result.stdout)["failures"]
    assert "unknown" in failure["message"]


@pytest.mark.parametrize("problem", ["token", "collection", "read-only", "url"])
def test_submit_usage_and_connection_errors_exit_1(hub: Hub, tmp_path: Path, problem: str) -> None:
    member = hub.member()
    path = write_json(tmp_path / "in.json", [indicator()])
    args: list[str | Path] = ["--key", key_file(tmp_path, member), path]
    if problem == "token":
        member.token = "wrong-token"
        result, message = submit(hub, member, hub.collection(), *args), "401"
    elif problem == "collection":
        result, message = submit(hub, member, "no-such-collection", *args), "not found"
    elif problem == "read-only":
        read_only = hub.collection(write_roles=[])
        result, message = submit(hub, member, read_only, *args), "not writable"
    else:
        url = "http://127.0.0.1:9/api1/"  # nothing listens on the discard port
        result, message = submit(hub, member, "submissions", *args, url=url), "cannot reach"
    assert result.exit_code == 1, result.output
    assert message in result.stderr and "Traceback" not in result.output
    assert result.stdout == ""


def test_verify_without_jwks_on_an_empty_postgres_database_creates_no_tables(
    postgres: PostgresServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = postgres.create_database()
    path = write_json(tmp_path / "in.json", [sign_object(indicator(), generate_private_key())])
    with cli_settings(monkeypatch, home=tmp_path / "home", database_url=url):
        result = run("verify", path)
    assert result.exit_code == 1, result.output
    assert "no hub database" in result.stderr and "--jwks" in result.stderr
    engine = make_engine(url)
    try:
        assert inspect(engine).get_table_names() == []
    finally:
        engine.dispose()
    assert not (tmp_path / "home").exists()


def test_verify_of_the_whole_hub_collection_exits_0(hub: Hub, tmp_path: Path) -> None:
    """Everything the hub publishes verifies against its JWKS with the city-side tool: the
    signed identities, the extension-definitions (signed in x_cityshield_signature) and the
    TLP definitions (predefined, unsigned)."""
    member = hub.member()
    root = ApiRoot(hub.api_root, user=member.name, password=member.token)
    collection = next(c for c in root.collections if c.alias == "hub")
    objects = [
        obj
        for page in as_pages(collection.get_objects, per_request=100)
        for obj in page.get("objects", [])
    ]
    path = write_json(tmp_path / "hub.json", {"objects": objects})
    result = run("verify", "--jwks", f"{hub.base_url}/.well-known/jwks.json", path)
    assert result.exit_code == 0, result.output
    lines = {line["id"]: line for line in map(json.loads, result.stdout.splitlines())}
    assert len(lines) == len(objects) and all(line["ok"] for line in lines.values())
    assert lines[member.identity_id]["kid"] is not None
    assert lines[SIGNATURE_EXTENSION_ID]["kid"] is not None
