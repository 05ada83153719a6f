"""Operating webhooks and urgent marks: `member webhook`, `member urgent`, `outbox --kind
webhook`, `submit --urgent`, the admin HTTP API under /api/v1/webhooks (admins only), and
migration 0012 up and down."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect, select

from cityshield.config import get_settings
from cityshield.db import make_engine, session_scope
from cityshield.delivery.models import DeliveryTarget
from cityshield.delivery.urgent import HONOURED
from cityshield.migrate import alembic_config
from cityshield.signing.keys import private_key_to_pem
from tests.conftest import BACKENDS, database_url
from tests.utils.cli import cli, hub_cli_settings
from tests.utils.delivery import remove_targets
from tests.utils.server import Hub
from tests.utils.stix import fresh_ipv4, indicator, sighting

HOOK = "https://soc.city.example/hooks/cityshield"


@pytest.fixture
def hub(policy_hub: Hub, monkeypatch: pytest.MonkeyPatch) -> Iterator[Hub]:
    """The module's hub, with the CLI's settings pointing at it."""
    with hub_cli_settings(monkeypatch, policy_hub):
        yield policy_hub
    remove_targets(policy_hub)


def test_webhook_commands_show_the_secret_once(hub: Hub) -> None:
    city = hub.member()
    added = cli("member", "webhook", city.name, "--url", HOOK, "--urgent-only")
    shown = json.loads(added.stdout)
    secret = shown["secret"]
    assert secret.startswith("whsec_") and "shown this once" in added.stderr
    assert shown["kind"] == "webhook" and shown["url"] == HOOK and shown["urgent_only"] is True
    replaced = json.loads(cli("member", "webhook", "add", city.name, "--url", HOOK).stdout)
    assert replaced["secret"] == "***" and replaced["urgent_only"] is False
    outputs = [
        cli("member", "webhook", "list"),
        cli("outbox", "list"),
        cli("outbox", "show", city.name, "--kind", "webhook"),
        cli("outbox", "retry", city.name, "--kind", "webhook"),
        cli("member", "webhook", "pause", city.name),
    ]
    for result in outputs:
        assert secret not in result.stdout + result.stderr
    (listed,) = [r for r in json.loads(outputs[0].stdout) if r["member"] == city.name]
    assert listed["secret"] == "***" and listed["auth"] == "signing"
    assert json.loads(outputs[4].stdout)["state"] == "paused"
    assert json.loads(cli("member", "webhook", "resume", city.name).stdout)["state"] == "active"
    with session_scope(hub.engine) as session:
        stored = [t.secret or "" for t in session.execute(select(DeliveryTarget)).scalars()]
    assert stored and all(secret not in s for s in stored), "the secret is stored in clear"
    rotated = json.loads(cli("member", "webhook", city.name, "--url", HOOK, "--new-secret").stdout)
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != secret
    assert cli("member", "push-target", "list").stdout.strip() == "[]", "a webhook is no target"
    cli("member", "webhook", "remove", city.name)
    missing = cli("outbox", "show", city.name, "--kind", "webhook", ok=False)
    assert missing.returncode == 1 and "no webhook" in missing.stderr
    bad = cli("member", "webhook", city.name, "--url", "ftp://x.example/", ok=False)
    assert bad.returncode == 1 and "http(s)" in bad.stderr


def test_member_urgent_shows_and_sets_what_a_member_may_do(hub: Hub) -> None:
    city = hub.member()
    default = json.loads(cli("member", "urgent", city.name).stdout)
    assert default == {
        "member": city.name,
        "allowed": True,
        "per_hour": get_settings().urgent_per_hour,
        "custom": False,
        "honoured_last_hour": 0,
    }
    denied = json.loads(cli("member", "urgent", city.name, "--no-allow", "--per-hour", "3").stdout)
    assert denied["allowed"] is False and denied["per_hour"] == 3 and denied["custom"] is True
    allowed = json.loads(cli("member", "urgent", city.name, "--allow").stdout)
    assert allowed["allowed"] is True and allowed["per_hour"] == 3
    reset = json.loads(cli("member", "urgent", city.name, "--reset").stdout)
    assert reset["custom"] is False and reset["allowed"] is True


def test_submit_urgent_signs_the_mark_and_reports_each_decision(hub: Hub, tmp_path: Path) -> None:
    city = hub.member()
    key = tmp_path / "city.pem"
    key.write_bytes(private_key_to_pem(city.key))
    report = indicator(value=fresh_ipv4())
    seen = sighting(report["id"])
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps({"type": "bundle", "objects": [report, seen]}))
    base = ("submit", "--url", hub.api_root, "--collection", "submissions", "--user", city.name)
    base += ("--token", city.token)
    unsigned = cli(*base, "--urgent", str(path), ok=False)
    assert unsigned.returncode == 1 and "--urgent needs --key" in unsigned.stderr
    result = json.loads(cli(*base, "--urgent", "--key", str(key), str(path)).stdout)
    assert result["success_count"] == 2
    assert result["messages"] == [
        {"id": report["id"], "message": HONOURED},
        {"id": seen["id"], "message": HONOURED},
    ]
    assert json.loads(cli("member", "urgent", city.name).stdout)["honoured_last_hour"] == 2


def test_admin_api_reports_webhooks_and_is_for_admins_only(hub: Hub) -> None:
    admin, city = hub.member(role="admin"), hub.member()
    secret = json.loads(cli("member", "webhook", city.name, "--url", HOOK).stdout)["secret"]
    base = f"{hub.base_url}/api/v1/webhooks"
    with hub.client(admin) as client:
        answers = [
            client.get(base),
            client.get(f"{base}/{city.name}"),
            client.get(f"{base}/{city.name}/receipts", params={"status": "rejected"}),
            client.post(f"{base}/{city.name}/retry", params={"rejected": "true"}),
        ]
        missing = client.get(f"{base}/nobody-such")
        targets = client.get(f"{hub.base_url}/api/v1/push-targets")
        paths = set(client.get(f"{hub.base_url}/openapi.json").json()["paths"])
    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert secret not in answer.text
    row = next(r for r in answers[0].json() if r["member"] == city.name)
    assert row["kind"] == "webhook" and row["secret"] == "***" and row["lag"]["queue_depth"] == 0
    assert answers[2].json() == [] and answers[3].json()["state"] == "active"
    assert missing.status_code == 404 and missing.json()["title"] == "Push target not found"
    assert all(r["kind"] == "taxii" for r in targets.json())
    assert {
        "/api/v1/webhooks",
        "/api/v1/webhooks/{member}",
        "/api/v1/webhooks/{member}/receipts",
        "/api/v1/webhooks/{member}/retry",
    } <= paths
    with hub.client(city) as client:
        forbidden = [
            client.get(base),
            client.get(f"{base}/{city.name}"),
            client.get(f"{base}/{city.name}/receipts"),
            client.post(f"{base}/{city.name}/retry"),
        ]
    for answer in forbidden:
        assert answer.status_code == 403 and answer.json()["title"] == "Forbidden"


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return database_url(request.param, request) or f"sqlite:///{tmp_path / 'hub.db'}"


def test_0012_adds_urgency_and_webhooks_and_takes_them_away(url: str) -> None:
    config = alembic_config(url)
    engine = make_engine(url)

    def columns(table: str) -> set[str]:
        return {c["name"] for c in inspect(engine).get_columns(table)}

    try:
        command.upgrade(config, "head")
        assert {"urgent_mark", "urgent_setting"} <= set(inspect(engine).get_table_names())
        for table in ("contribution", "network_view", "network_pending"):
            assert "urgent" in columns(table)
        assert "urgent_only" in columns("delivery_target")
        command.downgrade(config, "0011")
        assert not {"urgent_mark", "urgent_setting"} & set(inspect(engine).get_table_names())
        assert "urgent" not in columns("contribution") | columns("network_view")
        assert "urgent_only" not in columns("delivery_target")
        command.upgrade(config, "head")
        assert "urgent" in columns("network_pending")
    finally:
        engine.dispose()
