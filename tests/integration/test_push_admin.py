"""Operating push delivery: the CLI (`member push-target`, `outbox`) and the admin HTTP API
under /api/v1/ (admins only), with credentials encrypted at rest and never shown; and the
migration that adds the tables, up and down."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect, select

from cityshield.db import make_engine, session_scope
from cityshield.delivery.models import DeliveryTarget
from cityshield.delivery.receipts import DELIVERED, REJECTED, Receipt, record_receipts
from cityshield.migrate import alembic_config
from cityshield.timefmt import now_micros
from tests.conftest import BACKENDS, database_url
from tests.utils.cli import cli, hub_cli_settings
from tests.utils.delivery import remove_targets, target_of
from tests.utils.server import Hub

SECRET = "s3cret-Pa55word-never-shown"
TOKEN = "tok-0123456789abcdef-never-shown"


@pytest.fixture
def hub(policy_hub: Hub, monkeypatch: pytest.MonkeyPatch) -> Iterator[Hub]:
    """The module's hub, with the CLI's settings pointing at it."""
    with hub_cli_settings(monkeypatch, policy_hub):
        yield policy_hub
    remove_targets(policy_hub)


def test_push_target_commands_never_show_credentials(hub: Hub) -> None:
    city, other = hub.member(), hub.member()
    added = cli(
        *("member", "push-target", city.name, "--url", "https://taxii.city.example/api1"),
        *("--collection", "c-1", "--user", "soc"),
        CITYSHIELD_PUSH_PASSWORD=SECRET,
    )
    shown = json.loads(added.stdout)
    assert shown["url"] == "https://taxii.city.example/api1/" and shown["view"] == "network"
    assert shown["auth"] == "basic" and shown["user"] == "soc" and shown["secret"] == "***"
    cli(
        *("member", "push-target", "add", other.name, "--url", "http://127.0.0.1:9/r/"),
        *("--collection", "c-2", "--token", TOKEN, "--view", "submissions"),
    )
    outputs = [added, cli("member", "push-target", "list"), cli("outbox", "list")]
    outputs.append(cli("outbox", "show", city.name))
    listed = {row["member"]: row for row in json.loads(outputs[1].stdout)}
    assert listed[other.name]["auth"] == "token" and listed[other.name]["secret"] == "***"
    assert json.loads(outputs[2].stdout)[0]["lag"]["queue_depth"] >= 0
    for result in outputs:
        assert SECRET not in result.stdout + result.stderr
        assert TOKEN not in result.stdout + result.stderr
    with session_scope(hub.engine) as session:
        stored = [t.secret or "" for t in session.execute(select(DeliveryTarget)).scalars()]
    assert stored and all(SECRET not in s and TOKEN not in s for s in stored), "stored in clear"

    paused = json.loads(cli("member", "push-target", "pause", city.name).stdout)
    assert paused["state"] == "paused"
    refused = cli("outbox", "retry", city.name, ok=False)
    assert refused.returncode == 1 and "paused" in refused.stderr
    assert json.loads(cli("member", "push-target", "resume", city.name).stdout)["state"] == (
        "active"
    )
    cli("member", "push-target", "remove", city.name)
    missing = cli("outbox", "show", city.name, ok=False)
    assert missing.returncode == 1 and "no push target" in missing.stderr


def test_push_target_refuses_bad_input(hub: Hub) -> None:
    city = hub.member()
    base = ("member", "push-target", city.name, "--collection", "c")
    for args, reason in [
        (("--url", "ftp://x.example/"), "http(s)"),
        (("--url", "https://u:p@x.example/api1/"), "not in the URL"),
        (("--url", "https://x.example/api1/", "--view", "hub"), "--view"),
        (
            ("--url", "https://x.example/api1/", "--view", "submissions", "--min-members", "2"),
            "--min-members",
        ),
        (("--url", "https://x.example/api1/", "--user", "u"), "--password"),
        (("--url", "https://x.example/api1/", "--token", "t", "--user", "u"), "not both"),
    ]:
        result = cli(*base, *args, ok=False)
        assert result.returncode == 1 and reason in result.stderr, (args, result.stderr)
    unknown = cli(
        "member",
        "push-target",
        "nobody-such",
        "--url",
        "https://x.example/",
        "--collection",
        "c",
        ok=False,
    )
    assert unknown.returncode == 1


def _receipts(hub: Hub, target_id: int, object_id: str) -> None:
    now = now_micros()
    with session_scope(hub.engine) as session:
        record_receipts(
            session,
            target_id=target_id,
            receipts=[
                Receipt(object_id, now - 5_000_000, now - 4_000_000, DELIVERED),
                Receipt(
                    "indicator--00000000-0000-4000-8000-000000000001",
                    now,
                    now,
                    REJECTED,
                    "Unable to process object",
                ),
            ],
            now_us=now,
        )


def test_admin_api_reports_targets_lag_receipts_and_deliveries(hub: Hub) -> None:
    admin, city = hub.member(role="admin"), hub.member()
    cli(
        "member",
        "push-target",
        city.name,
        "--url",
        "http://127.0.0.1:9/api1/",
        "--collection",
        "c",
        "--token",
        TOKEN,
    )
    object_id = "indicator--6b8c0a6e-1b1f-4c6e-9d3a-3f8f2a1d7e55"
    _receipts(hub, target_of(hub, city).id or 0, object_id)
    with hub.client(admin) as client:
        listing = client.get(f"{hub.base_url}/api/v1/push-targets")
        one = client.get(f"{hub.base_url}/api/v1/push-targets/{city.name}")
        rejected = client.get(
            f"{hub.base_url}/api/v1/push-targets/{city.name}/receipts",
            params={"status": "rejected"},
        )
        deliveries = client.get(f"{hub.base_url}/api/v1/indicators/{object_id}/deliveries")
        retried = client.post(
            f"{hub.base_url}/api/v1/push-targets/{city.name}/retry", params={"rejected": "true"}
        )
        missing = client.get(f"{hub.base_url}/api/v1/push-targets/nobody-such")
        openapi = client.get(f"{hub.base_url}/openapi.json")
    for answer in (listing, one, rejected, deliveries, retried):
        assert answer.status_code == 200, answer.text
        assert TOKEN not in answer.text
    row = next(r for r in listing.json() if r["member"] == city.name)
    assert row["secret"] == "***" and row["lag"]["queue_depth"] >= 0
    assert set(row["lag"]) == {
        "queue_depth",
        "queue_depth_capped",
        "oldest_undelivered",
        "oldest_undelivered_age_seconds",
    }
    assert {"last_success", "last_error", "state", "attempts"} <= set(one.json())
    assert [r["status"] for r in rejected.json()] == ["rejected"]
    assert rejected.json()[0]["message"] == "Unable to process object"
    (delivery,) = deliveries.json()
    assert delivery["member"] == city.name and delivery["status"] == "delivered"
    assert delivery["latency_seconds"] == pytest.approx(0.0, abs=5)
    assert retried.json()["state"] == "active"
    assert missing.status_code == 404 and missing.json()["title"] == "Push target not found"
    paths = openapi.json()["paths"]
    assert {
        "/api/v1/push-targets",
        "/api/v1/push-targets/{member}",
        "/api/v1/push-targets/{member}/receipts",
        "/api/v1/push-targets/{member}/retry",
        "/api/v1/indicators/{object_id}/deliveries",
    } <= set(paths)
    with hub.client(admin) as client:
        after = client.get(f"{hub.base_url}/api/v1/push-targets/{city.name}/receipts")
    assert [r["status"] for r in after.json()] == ["delivered"], "retry --rejected forgets them"


def test_admin_api_is_for_admins_only(hub: Hub) -> None:
    city = hub.member()
    with hub.client(city) as client:
        answers = [
            client.get(f"{hub.base_url}/api/v1/push-targets"),
            client.get(f"{hub.base_url}/api/v1/push-targets/{city.name}"),
            client.get(f"{hub.base_url}/api/v1/push-targets/{city.name}/receipts"),
            client.post(f"{hub.base_url}/api/v1/push-targets/{city.name}/retry"),
            client.get(f"{hub.base_url}/api/v1/indicators/indicator--x/deliveries"),
        ]
    for answer in answers:
        assert answer.status_code == 403, answer.text
        assert answer.json()["title"] == "Forbidden"


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return database_url(request.param, request) or f"sqlite:///{tmp_path / 'hub.db'}"


def test_0011_adds_the_delivery_tables_and_takes_them_away(url: str) -> None:
    config = alembic_config(url)
    engine = make_engine(url)
    try:
        command.upgrade(config, "head")
        assert {"delivery_target", "delivery_receipt"} <= set(inspect(engine).get_table_names())
        command.downgrade(config, "0010")
        tables = set(inspect(engine).get_table_names())
        assert "delivery_target" not in tables and "delivery_receipt" not in tables
        command.upgrade(config, "head")
        assert {"delivery_target", "delivery_receipt"} <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
