"""List feeds end to end: definitions of the shipped formats pulled from a real HTTP server
on 127.0.0.1 serving the sample files, through the one ingest path into the network view;
HTTP caching (304: no work), withdrawal of values that leave the list, the sharing policy
on a feed's objects, and a feed that can neither log in nor be impersonated."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from typer.testing import CliRunner

from cityshield.cli.main import app
from cityshield.client.jwks import usable_keys
from cityshield.client.verify import check_object
from cityshield.db import session_scope
from cityshield.errors import BadRequest
from cityshield.members.service import create_member
from tests.utils.cli import hub_cli_settings
from tests.utils.feeds import (
    corroboration,
    define,
    health,
    key_of,
    network_indicator,
    pull,
    read_all,
    settings_for,
    shipped,
    text_feed,
)
from tests.utils.feedserver import FeedServer
from tests.utils.server import Hub, submit
from tests.utils.stix import fresh_ipv4

EXPECTED = {  # shipped definition -> (sample, the IOC keys it lists, lines refused)
    "urlhaus": ("urlhaus_recent.csv", 4, 1),
    "threatfox": ("threatfox_recent.csv", 5, 1),
    "feodotracker": ("feodo_ipblocklist.csv", 3, 0),
    "spamhaus-drop": ("spamhaus_drop.txt", 3, 0),
}


@pytest.fixture
def feed_hub(policy_hub: Hub) -> Hub:
    """The module's own hub (conftest's ``policy_hub``): feeds' indicators are for every
    member, and other modules count what members see."""
    return policy_hub


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as running:
        yield running


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def fresh_ips(count: int) -> list[str]:
    return [fresh_ipv4() for _ in range(count)]


@pytest.mark.parametrize("shipped_name", sorted(EXPECTED))
def test_the_shipped_formats_reach_the_network_view(
    feed_hub: Hub,
    server: FeedServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    shipped_name: str,
) -> None:
    sample, listed, refused = EXPECTED[shipped_name]
    name = unique(shipped_name)
    secret = "abuse-ch-key-" + uuid.uuid4().hex
    definition = shipped(shipped_name, name=name, enabled=True)
    if "auth" in definition:  # the key comes from the environment, as the file says
        env = definition["auth"]["token_env"]
        monkeypatch.setenv(env, secret)
        url = server.serve_sample(sample, required=(definition["auth"]["header"], secret))
    else:
        url = server.serve_sample(sample)
    define(tmp_path, {**definition, "url": url})
    (result,) = pull(feed_hub, tmp_path, name)
    assert result["ok"], result
    assert (result["added"], result["rejected"]) == (listed, refused)
    status = health(feed_hub, name)
    assert status.vouched == listed and status.etag and status.last_success
    assert status.ok and status.identity.startswith("identity--")

    reader = feed_hub.member()
    mine = [
        o
        for o in read_all(feed_hub, reader, "submissions")
        if o.get("created_by_ref") == status.identity
    ]
    assert len(mine) == listed
    jwks = usable_keys(httpx.get(f"{feed_hub.base_url}/.well-known/jwks.json").json(), source="hub")
    assert all(check_object(o, jwks, allow_revoked=False, now=time.time())["ok"] for o in mine)
    for obj in mine:  # each value corroborated by the feed alone: a feed is not a member
        network = network_indicator(feed_hub, reader, key_of(obj["pattern"]))
        assert network is not None and not network.get("revoked")
        ext = corroboration(network)
        assert (ext["member_count"], ext["feed_count"], ext["feed_refs"]) == (0, 1, [obj["id"]])
        assert network["confidence"] == definition["confidence"]
    identity = next(o for o in read_all(feed_hub, reader, "hub") if o["id"] == status.identity)
    assert identity["name"] == definition["attribution"]["name"]
    assert identity["identity_class"] == "organization"
    assert identity["contact_information"] == definition["attribution"]["contact_information"]


def test_an_unchanged_list_is_a_304_and_no_work(
    feed_hub: Hub, server: FeedServer, tmp_path: Path
) -> None:
    name, ips = unique("cached"), fresh_ips(2)
    url = server.serve("cached.txt", "\n".join(ips).encode())
    define(tmp_path, text_feed(name, url))
    (first,) = pull(feed_hub, tmp_path, name)
    before = health(feed_hub, name)
    (second,) = pull(feed_hub, tmp_path, name)
    assert (first["added"], second["added"], second["not_modified"]) == (2, 0, True)
    assert server.statuses("cached.txt") == [200, 304]
    _, headers, _ = server.requests[-1]
    assert headers["if-none-match"] == before.etag
    assert headers["if-modified-since"] == before.last_modified
    after = health(feed_hub, name)
    assert after.not_modified and after.total_added == 2 and after.vouched == 2


def test_a_value_that_leaves_the_list_is_withdrawn_and_may_come_back(
    feed_hub: Hub, server: FeedServer, tmp_path: Path
) -> None:
    name, (kept, dropped) = unique("delta"), fresh_ips(2)
    reader = feed_hub.member()
    url = server.serve("delta.txt", f"{kept}\n{dropped}\n".encode())
    define(tmp_path, text_feed(name, url))
    pull(feed_hub, tmp_path, name)
    first = network_indicator(feed_hub, reader, f"ipv4-addr:value={dropped}")
    assert first is not None and not first.get("revoked")

    server.serve("delta.txt", f"# now without one\n{kept}\n".encode())
    (result,) = pull(feed_hub, tmp_path, name)
    assert (result["added"], result["withdrawn"]) == (0, 1)
    gone = network_indicator(feed_hub, reader, f"ipv4-addr:value={dropped}")
    assert gone is not None and gone["revoked"] is True, "nobody vouches for it any more"
    still = network_indicator(feed_hub, reader, f"ipv4-addr:value={kept}")
    assert still is not None and not still.get("revoked")
    assert health(feed_hub, name).vouched == 1

    server.serve("delta.txt", f"{kept}\n{dropped}\n".encode())
    (back,) = pull(feed_hub, tmp_path, name)
    assert (back["added"], back["withdrawn"]) == (1, 0)
    again = network_indicator(feed_hub, reader, f"ipv4-addr:value={dropped}", generation=1)
    assert again is not None and not again.get("revoked"), "a revoked object stays revoked"
    feed_objects = {
        o["id"]: o
        for o in read_all(feed_hub, reader, "submissions")
        if o["pattern"] == f"[ipv4-addr:value = '{dropped}']"
    }
    assert len(feed_objects) == 2, "the returning value is vouched for by a new object"


def test_an_error_page_withdraws_nothing(feed_hub: Hub, server: FeedServer, tmp_path: Path) -> None:
    name, (ip,) = unique("broken"), fresh_ips(1)
    url = server.serve("broken.txt", f"{ip}\n".encode())
    define(tmp_path, text_feed(name, url))
    pull(feed_hub, tmp_path, name)
    server.serve("broken.txt", b"<html><body>\nService Unavailable\n</body></html>\n")
    (result,) = pull(feed_hub, tmp_path, name)
    assert not result["ok"] and "none of the 3 lines holds a valid value" in result["error"]
    status = health(feed_hub, name)
    assert status.vouched == 1 and status.withdrawn == 0 and status.ok is False
    assert status.last_error and "nothing was withdrawn" in status.last_error


def test_unreachable_and_refused_downloads_are_recorded(
    feed_hub: Hub, server: FeedServer, tmp_path: Path
) -> None:
    missing, locked = unique("missing"), unique("locked")
    define(tmp_path, text_feed(missing, server.url("nothing-here.txt")))
    url = server.serve("locked.txt", b"198.51.100.1\n", required=("Authorization", "Bearer x"))
    define(tmp_path, text_feed(locked, url, auth={"type": "bearer", "token_env": "NOT_SET_X"}))
    results = {r["name"]: r for r in pull(feed_hub, tmp_path)}
    assert "HTTP 404" in results[missing]["error"]
    assert "NOT_SET_X is not set" in results[locked]["error"]
    assert health(feed_hub, missing).last_error == results[missing]["error"]


def test_a_feeds_amber_objects_stay_within_its_groups(
    feed_hub: Hub, server: FeedServer, tmp_path: Path
) -> None:
    group, name, (ip,) = unique("region"), unique("amber"), fresh_ips(1)
    inside, outside = feed_hub.member(groups=[group]), feed_hub.member()
    url = server.serve("amber.txt", f"{ip}\n".encode())
    define(tmp_path, text_feed(name, url, tlp="amber", groups=[group]))
    pull(feed_hub, tmp_path, name)
    key = f"ipv4-addr:value={ip}"
    seen = network_indicator(feed_hub, inside, key)
    assert seen is not None and corroboration(seen)["feed_count"] == 1
    assert seen["object_marking_refs"] == [
        "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
    ]
    assert network_indicator(feed_hub, outside, key) is None
    patterns = {o.get("pattern") for o in read_all(feed_hub, outside, "submissions")}
    assert f"[ipv4-addr:value = '{ip}']" not in patterns
    assert f"[ipv4-addr:value = '{ip}']" in {
        o.get("pattern") for o in read_all(feed_hub, inside, "submissions")
    }

    # the definition no longer shares with the group: what the feed said before follows
    define(tmp_path, text_feed(name, url, tlp="amber", groups=[]))
    pull(feed_hub, tmp_path, name)
    assert network_indicator(feed_hub, inside, key) is None
    assert f"[ipv4-addr:value = '{ip}']" not in {
        o.get("pattern") for o in read_all(feed_hub, inside, "submissions")
    }


def test_a_city_and_a_feed_corroborate_one_indicator(
    feed_hub: Hub, server: FeedServer, tmp_path: Path
) -> None:
    name, (ip,) = unique("both"), fresh_ips(1)
    city = feed_hub.member()
    submit(
        feed_hub,
        city,
        {
            "type": "indicator",
            "spec_version": "2.1",
            "id": f"indicator--{uuid.uuid4()}",
            "created_by_ref": city.identity_id,
            "created": "2026-12-01T10:00:00.000Z",
            "modified": "2026-12-01T10:00:00.000Z",
            "pattern": f"[ipv4-addr:value = '{ip}']",
            "pattern_type": "stix",
            "valid_from": "2026-12-01T10:00:00Z",
            "confidence": 60,
            "object_marking_refs": ["marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"],
        },
    )
    url = server.serve("both.txt", f"{ip}\n".encode())
    define(tmp_path, text_feed(name, url, confidence=50))
    pull(feed_hub, tmp_path, name)
    network = network_indicator(feed_hub, city, f"ipv4-addr:value={ip}")
    assert network is not None
    ext = corroboration(network)
    assert (ext["member_count"], ext["feed_count"], ext["report_count"]) == (1, 1, 2)
    assert set(ext["feed_refs"]) < set(ext["contributing_refs"])
    assert network["confidence"] == 80, "noisy-OR of 60 and 50"


def test_a_feed_cannot_log_in_and_nobody_can_speak_for_it(
    feed_hub: Hub, server: FeedServer, tmp_path: Path
) -> None:
    name, (ip,) = unique("voice"), fresh_ips(1)
    define(tmp_path, text_feed(name, server.serve("voice.txt", f"{ip}\n".encode())))
    pull(feed_hub, tmp_path, name)
    identity = health(feed_hub, name).identity
    for auth in [(f"feed.{name}", "x" * 43), (f"feed.{name}", "")]:
        answer = httpx.get(f"{feed_hub.api_root}collections/", auth=auth)
        assert answer.status_code == 401
    city = feed_hub.member()
    forged = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid4()}",
        "created_by_ref": identity,
        "created": "2026-12-01T10:00:00.000Z",
        "modified": "2026-12-01T10:00:00.000Z",
        "pattern": "[ipv4-addr:value = '198.51.100.99']",
        "pattern_type": "stix",
        "valid_from": "2026-12-01T10:00:00Z",
    }
    as_identity = {
        "type": "identity",
        "spec_version": "2.1",
        "id": identity,
        "created": "2026-12-01T10:00:00.000Z",
        "modified": "2026-12-02T10:00:00.000Z",
        "name": "not the feed",
    }
    status = submit(feed_hub, city, forged, as_identity, clean=False)
    reasons = sorted(f["message"].rsplit("reason: ", 1)[-1] for f in status["failures"])
    assert reasons == ["created-by-ref-mismatch)", "reserved-identity)"]
    with session_scope(feed_hub.engine) as session, pytest.raises(BadRequest, match="reserved"):
        create_member(session, name=f"feed.{unique('x')}")


def test_the_worker_pulls_due_feeds_and_a_hanging_one_delays_no_other(
    feed_hub: Hub, server: FeedServer, tmp_path: Path
) -> None:
    slow, fast = unique("slow"), unique("fast")
    define(tmp_path, text_feed(slow, server.serve("slow.txt", b"198.51.100.201\n"), timeout="60s"))
    define(tmp_path, text_feed(fast, server.serve("fast.txt", b"198.51.100.202\n")))
    server.held.add("/slow.txt")
    settings = settings_for(feed_hub, tmp_path, feed_poll_seconds=0.5)
    try:
        with feed_hub.worker(settings):
            assert server.waiting.wait(timeout=60), "the slow feed's request never came"
            fast_status = wait_for(lambda: health(feed_hub, fast), lambda s: s.ok is not None)
            assert fast_status.ok and fast_status.vouched == 1
            assert health(feed_hub, slow).last_finished is None, "still hanging, alone"
            server.release.set()
            slow_status = wait_for(lambda: health(feed_hub, slow), lambda s: s.ok is not None)
            assert slow_status.ok and slow_status.vouched == 1
    finally:
        server.release.set()


def wait_for(read, done, attempts: int = 600):  # type: ignore[no-untyped-def]
    """Poll ``read()`` until ``done`` holds (a bound on attempts, not a timed assertion)."""
    for _ in range(attempts):
        value = read()
        if done(value):
            return value
        time.sleep(0.1)
    raise AssertionError(f"never done: {value}")


def test_admins_read_feed_health_over_http(
    feed_hub: Hub, server: FeedServer, tmp_path: Path
) -> None:
    name = unique("http")
    define(tmp_path, text_feed(name, server.serve("http.txt", b"198.51.100.203\n")))
    pull(feed_hub, tmp_path, name)
    admin, member = feed_hub.member(role="admin"), feed_hub.member()
    base = f"{feed_hub.base_url}/api/v1/feeds"
    listed = httpx.get(base, auth=(admin.name, admin.token))
    assert listed.status_code == 200
    mine = next(f for f in listed.json() if f["name"] == name)
    assert mine["ok"] is True and mine["added"] == 1 and mine["vouched"] == 1
    assert mine["etag"] and mine["principal"] == f"feed.{name}"
    one = httpx.get(f"{base}/{name}", auth=(admin.name, admin.token))
    assert one.status_code == 200 and one.json()["name"] == name
    assert httpx.get(f"{base}/nope", auth=(admin.name, admin.token)).status_code == 404
    for url in (base, f"{base}/{name}"):
        refused = httpx.get(url, auth=(member.name, member.token))
        assert refused.status_code == 403 and refused.json()["title"] == "Forbidden"
    spec = orjson.loads(httpx.get(f"{feed_hub.base_url}/openapi.json").content)
    assert {"/api/v1/feeds", "/api/v1/feeds/{name}"} <= set(spec["paths"])
    assert "403" in spec["paths"]["/api/v1/feeds"]["get"]["responses"]


def test_the_feeds_commands(
    feed_hub: Hub, server: FeedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``cityshield feeds list|run|status`` as an operator types them (in this process, as
    typer's runner runs them), against this module's hub."""
    with hub_cli_settings(monkeypatch, feed_hub, CITYSHIELD_FEEDS_DIR=str(tmp_path)):
        name, (ip,) = unique("cli"), fresh_ips(1)
        define(tmp_path, text_feed(name, server.serve("cli.txt", f"{ip}\n".encode())))
        listed = CliRunner().invoke(app, ["feeds", "list"])
        assert listed.exit_code == 0, listed.output
        assert [f["name"] for f in json.loads(listed.stdout)["feeds"]] == [name]
        ran = CliRunner().invoke(app, ["feeds", "run", name])
        assert ran.exit_code == 0, ran.output
        assert json.loads(ran.stdout)[0]["added"] == 1
        shown = CliRunner().invoke(app, ["feeds", "status", name])
        assert json.loads(shown.stdout)["vouched"] == 1

        (tmp_path / "broken.yaml").write_text("name: broken\nkind: text\n")
        listed = CliRunner().invoke(app, ["feeds", "list"])
        assert listed.exit_code == 1
        assert any("broken.yaml" in p for p in json.loads(listed.stdout)["problems"])
        failed = CliRunner().invoke(app, ["feeds", "run", "broken"])
        assert failed.exit_code == 1 and "broken.yaml" in failed.stderr
        missing = CliRunner().invoke(app, ["feeds", "status", "nope"])
        assert missing.exit_code == 1 and "No feed named 'nope'" in missing.stderr
