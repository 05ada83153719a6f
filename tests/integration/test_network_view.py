"""The network view end to end: cities submit overlapping IOCs written differently; the
network collection holds one hub-signed indicator per IOC with who corroborated it."""

from __future__ import annotations

import threading
import time
import uuid

import httpx
import orjson
import pytest
from sqlalchemy import func, select, text

from cityshield import db
from cityshield.db import session_scope
from cityshield.dedup.canonical import canonical_ioc
from cityshield.dedup.models import NetworkIOC, NetworkView
from cityshield.dedup.publish import CORROBORATION_EXTENSION_ID, network_indicator_id
from cityshield.dedup.service import age_network, refresh_network_statistics
from cityshield.flows.keys import lift_quarantine, revoke_key
from cityshield.hub.service import load_hub_context
from cityshield.jobs import JobContext, publish_network
from cityshield.signing.jwk import kid_for
from cityshield.signing.keys import load_public_key
from cityshield.signing.scheme import verify_object
from cityshield.stix.validation import validate_object
from cityshield.timefmt import now_micros
from tests.utils.server import TAXII, Hub, TestMember, submit
from tests.utils.stix import envelope, fresh_ipv4, indicator, sighting, stamp

HEADERS = {"Content-Type": TAXII}
DAY_US = 86_400 * 1_000_000


def fresh_ip() -> str:
    return fresh_ipv4()


def fresh_domain() -> str:
    return f"c2-{uuid.uuid4().hex[:10]}.example"


def report(pattern: str, **extra: object) -> dict:
    return indicator(pattern=pattern, **extra)


def network_version(hub: Hub, member: TestMember, pattern: str, generation: int = 0) -> dict:
    """The latest network indicator for the IOC a pattern names, checked to be valid STIX
    in full: the publisher validates it without its extensions (``dedup/publisher._core``),
    so this is where the extensions the hub builds are held to the same validation."""
    object_id = network_indicator_id(canonical_ioc(pattern).key, generation)
    with hub.client(member) as client:
        response = client.get(f"collections/network/objects/{object_id}/")
    assert response.status_code == 200, response.text
    (latest,) = response.json()["objects"]
    assert validate_object(latest) is None
    return latest


def corroboration(obj: dict) -> dict:
    return obj["extensions"][CORROBORATION_EXTENSION_ID]


def test_overlapping_submissions_make_one_indicator_per_ioc(hub: Hub) -> None:
    a, b, c, d = (hub.member() for _ in range(4))
    ip, domain = fresh_ip(), fresh_domain()
    host = fresh_domain()
    sha = uuid.uuid4().hex + uuid.uuid4().hex
    lone = fresh_ip()
    submit(
        hub,
        a,
        report(f"[ipv4-addr:value = '{ip}']"),
        report(f"[domain-name:value = '{domain.upper()}.']"),
        report(f"[file:hashes.'SHA-256' = '{sha.upper()}']"),
    )
    submit(
        hub,
        b,
        report(f"[ipv4-addr:value = '{ip}/32']"),
        report(f"[url:value = 'HTTP://{host.capitalize()}:80/a']"),
        report(f"[file:hashes.'SHA-256' = '{sha}']"),
    )
    submit(
        hub, c, report(f"[ipv4-addr:value = '{ip}']"), report(f"[url:value = 'http://{host}/a']")
    )
    submit(
        hub,
        d,
        report(f"[domain-name:value = '{domain}']"),
        report(f"[url:value = 'hxxp://{host.replace('.', '[.]')}/a']"),
        report(f"[ipv4-addr:value = '{lone}']"),
    )
    reader = hub.member()
    expected = {
        f"[ipv4-addr:value = '{ip}']": {a.identity_id, b.identity_id, c.identity_id},
        f"[domain-name:value = '{domain}']": {a.identity_id, d.identity_id},
        f"[url:value = 'http://{host}/a']": {b.identity_id, c.identity_id, d.identity_id},
        f"[file:hashes.'SHA-256' = '{sha}']": {a.identity_id, b.identity_id},
        f"[ipv4-addr:value = '{lone}']": {d.identity_id},
    }
    for pattern, members in expected.items():
        latest = network_version(hub, reader, pattern)
        ext = corroboration(latest)
        assert ext["member_count"] == len(members), pattern
        assert ext["report_count"] == len(members), pattern
        assert len(ext["contributing_refs"]) == len(members)
        assert latest["pattern"] == canonical_ioc(pattern).pattern
        assert "revoked" not in latest
    # exactly one network indicator per IOC: the by-id reads above, and no other ids
    ids = {network_indicator_id(canonical_ioc(p).key) for p in expected}
    with hub.client(reader) as client:
        manifest = client.get("collections/network/manifest/?match[version]=last&limit=500")
    listed = {e["id"] for e in manifest.json()["objects"]}
    assert ids <= listed


def test_network_indicators_are_signed_by_the_hub_and_read_only(hub: Hub) -> None:
    member = hub.member()
    pattern = f"[ipv4-addr:value = '{fresh_ip()}']"
    submit(hub, member, report(pattern))
    latest = network_version(hub, member, pattern)
    jwks = httpx.get(f"{hub.base_url}/.well-known/jwks.json").json()
    hub_key = next(k for k in jwks["keys"] if k["identity"] == latest["created_by_ref"])
    verify_object(
        latest,
        load_public_key(orjson.dumps({k: hub_key[k] for k in ("kty", "crv", "x", "kid")}).decode()),
    )
    with hub.client(member) as client:
        response = client.post(
            "collections/network/objects/",
            content=orjson.dumps(envelope(indicator())),
            headers=HEADERS,
        )
    assert response.status_code == 403


def test_confidence_aggregates_over_distinct_members(hub: Hub) -> None:
    a, b = hub.member(), hub.member()
    pattern = f"[domain-name:value = '{fresh_domain()}']"
    submit(hub, a, report(pattern, confidence=60), report(pattern, confidence=60))
    assert network_version(hub, a, pattern)["confidence"] == 60, "a member counts once"
    submit(hub, b, report(pattern, confidence=60))
    assert network_version(hub, a, pattern)["confidence"] == 84


def test_new_versions_and_revocation_by_every_contributor(hub: Hub) -> None:
    a, b = hub.member(), hub.member()
    pattern = f"[ipv4-addr:value = '{fresh_ip()}']"
    first_a = report(pattern, created=stamp(0))
    first_b = report(pattern, created=stamp(0))
    submit(hub, a, first_a)
    submit(hub, b, first_b)
    assert corroboration(network_version(hub, a, pattern))["member_count"] == 2
    submit(hub, a, dict(first_a, modified=stamp(5), revoked=True))
    after_one = network_version(hub, a, pattern)
    assert corroboration(after_one)["member_count"] == 1
    assert "revoked" not in after_one
    older = dict(first_b, modified=stamp(1), name="late old version")
    submit(hub, b, dict(first_b, modified=stamp(6), revoked=True), older)
    gone = network_version(hub, a, pattern)
    assert gone["revoked"] is True
    assert corroboration(gone)["state"] == "revoked"


def test_changed_pattern_moves_the_contribution(hub: Hub) -> None:
    member = hub.member()
    old_pattern = f"[ipv4-addr:value = '{fresh_ip()}']"
    new_pattern = f"[ipv4-addr:value = '{fresh_ip()}']"
    original = report(old_pattern, created=stamp(0))
    submit(hub, member, original)
    submit(hub, member, dict(original, modified=stamp(3), pattern=new_pattern))
    assert network_version(hub, member, old_pattern)["revoked"] is True
    assert corroboration(network_version(hub, member, new_pattern))["member_count"] == 1


def test_sightings_corroborate(hub: Hub) -> None:
    reporter, sighter = hub.member(), hub.member()
    pattern = f"[url:value = 'http://{fresh_domain()}/login']"
    submit(hub, reporter, report(pattern))
    network_id = network_version(hub, reporter, pattern)["id"]
    submit(hub, sighter, sighting(network_id, count=3))
    ext = corroboration(network_version(hub, reporter, pattern))
    assert ext["member_count"] == 2
    assert ext["sighting_count"] == 1 and ext["report_count"] == 1


def test_a_sighting_of_an_original_counts_for_its_ioc(hub: Hub) -> None:
    reporter, sighter = hub.member(), hub.member()
    pattern = f"[ipv4-addr:value = '{fresh_ip()}']"
    original = report(pattern)
    submit(hub, reporter, original)
    submit(hub, sighter, sighting(original["id"]))
    ext = corroboration(network_version(hub, reporter, pattern))
    assert (ext["member_count"], ext["sighting_count"]) == (2, 1)


def test_deleting_an_original_withdraws_it_from_the_network_view(hub: Hub) -> None:
    a, b, admin = hub.member(), hub.member(), hub.member(role="admin")
    pattern = f"[domain-name:value = '{fresh_domain()}']"
    kept, deleted = report(pattern), report(pattern)
    submit(hub, a, kept)
    submit(hub, b, deleted)
    assert corroboration(network_version(hub, a, pattern))["member_count"] == 2
    with hub.client(admin) as client:
        response = client.delete(f"collections/submissions/objects/{deleted['id']}/")
    assert response.status_code == 200, response.text
    assert hub.publish_network() == 1, "the IOC the deleted original vouched for is republished"
    after = corroboration(network_version(hub, a, pattern))
    assert after["member_count"] == 1
    assert after["contributing_refs"] == [kept["id"]]
    submit(hub, b, deleted)  # the same original may come back, and counts again
    assert corroboration(network_version(hub, a, pattern))["member_count"] == 2


def test_ageing_revokes_stale_iocs_and_a_new_report_starts_a_new_indicator(hub: Hub) -> None:
    member = hub.member()
    pattern = f"[ipv4-addr:value = '{fresh_ip()}']"
    submit(hub, member, report(pattern))
    live = network_version(hub, member, pattern)
    assert "valid_until" in live, "an IP address report without valid_until gets a lifetime"
    with session_scope(hub.engine) as session:
        context = load_hub_context(session, hub.settings)
        assert age_network(session, context=context, now_us=now_micros() + 15 * DAY_US) >= 1
    stale = network_version(hub, member, pattern)
    assert stale["revoked"] is True and corroboration(stale)["state"] == "expired"
    with hub.client(member) as client:
        exported = client.get("../export/blocklist?type=ipv4-addr").text.split()
    assert canonical_ioc(pattern).value not in exported
    submit(hub, member, report(pattern))
    reborn = network_version(hub, member, pattern, generation=1)
    assert reborn["id"] != stale["id"] and "revoked" not in reborn


def test_hashes_never_age_without_valid_until(hub: Hub) -> None:
    member = hub.member()
    pattern = f"[file:hashes.MD5 = '{uuid.uuid4().hex}']"
    submit(hub, member, report(pattern))
    assert "valid_until" not in network_version(hub, member, pattern)


def test_benign_values_are_flagged_and_not_exported(hub: Hub) -> None:
    member = hub.member()
    bad_ip = fresh_ip()
    submit(
        hub,
        member,
        report("[ipv4-addr:value = '8.8.8.8']"),
        report(f"[ipv4-addr:value = '{bad_ip}']"),
        report("[domain-name:value = 'login.microsoft.com']"),
    )
    benign = network_version(hub, member, "[ipv4-addr:value = '8.8.8.8']")
    assert "8.8.8.8" in corroboration(benign)["benign_reason"]
    assert "benign_reason" not in corroboration(
        network_version(hub, member, f"[ipv4-addr:value = '{bad_ip}']")
    )
    with hub.client(member) as client:
        ips = client.get("../export/blocklist?type=ipv4-addr").text.split()
        domains = client.get("../export/blocklist?type=domain-name&format=json").json()
        bad_type = client.get("../export/blocklist?type=x-thing")
    assert bad_ip in ips and "8.8.8.8" not in ips
    assert "login.microsoft.com" not in domains["values"]
    assert bad_type.status_code == 400


def test_concurrent_reports_of_one_ioc_make_one_network_indicator(hub: Hub) -> None:
    members = [hub.member() for _ in range(4)]
    pattern = f"[domain-name:value = '{fresh_domain()}']"
    errors: list[str] = []

    def send(member: TestMember) -> None:
        try:
            submit(hub, member, report(pattern))
        except AssertionError as exc:
            errors.append(str(exc))

    threads = [threading.Thread(target=send, args=(m,)) for m in members]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    latest = network_version(hub, members[0], pattern)
    assert corroboration(latest)["member_count"] == 4
    with session_scope(hub.engine) as session:
        count = session.execute(
            select(func.count()).where(NetworkIOC.key == canonical_ioc(pattern).key)
        ).scalar_one()
    assert count == 1


def test_quarantined_originals_stop_counting_until_released(hub: Hub) -> None:
    suspect, honest = hub.member(), hub.member()
    pattern = f"[ipv4-addr:value = '{fresh_ip()}']"
    since = now_micros()
    submit(hub, suspect, report(pattern))
    submit(hub, honest, report(pattern))
    assert corroboration(network_version(hub, honest, pattern))["member_count"] == 2
    kid = kid_for(suspect.key.public_key())
    with session_scope(hub.engine) as session:
        revoke_key(session, settings=hub.settings, kid=kid, compromised_since_us=since)
    hidden = corroboration(network_version(hub, honest, pattern))
    assert hidden["member_count"] == 1
    assert len(hidden["contributing_refs"]) == 1
    with session_scope(hub.engine) as session:
        lift_quarantine(session, settings=hub.settings, kid=kid)
    assert corroboration(network_version(hub, honest, pattern))["member_count"] == 2


def test_the_worker_publishes_pending_network_indicators_by_itself(hub: Hub) -> None:
    """Ingest only queues IOCs; the API publishes nothing itself (it serves requests only),
    and the worker publishes them at once, not at its next interval (an hour here)."""
    member = hub.member()
    pattern = f"[ipv4-addr:value = '{fresh_ip()}']"
    object_id = network_indicator_id(canonical_ioc(pattern).key)
    hourly = hub.settings.model_copy(update={"publish_interval_seconds": 3600})
    with hub.client(member) as client:
        with hub.worker(settings=hourly):
            time.sleep(0.5)  # its first (interval) runs are over: what follows is early
            posted = client.post(
                "collections/submissions/objects/",
                content=orjson.dumps(envelope(report(pattern))),
                headers=HEADERS,
            )
            assert posted.status_code == 202, posted.text
            started = time.monotonic()
            for _ in range(300):  # bounded: 30 s at most, far below the hour's interval
                response = client.get(f"collections/network/objects/{object_id}/")
                if response.status_code == 200:
                    break
                time.sleep(0.1)
            waited = time.monotonic() - started
        assert response.status_code == 200, "the worker did not publish"
        assert waited < 30
        assert corroboration(response.json()["objects"][0])["member_count"] == 1


def test_the_api_alone_publishes_nothing(hub: Hub) -> None:
    """No loop runs in the API process any more: without a worker, a queued IOC stays
    queued (so the test above proves the worker published it)."""
    member = hub.member()
    pattern = f"[ipv4-addr:value = '{fresh_ip()}']"
    object_id = network_indicator_id(canonical_ioc(pattern).key)
    with hub.client(member) as client:
        posted = client.post(
            "collections/submissions/objects/",
            content=orjson.dumps(envelope(report(pattern))),
            headers=HEADERS,
        )
        assert posted.status_code == 202, posted.text
        time.sleep(1.5)  # three of the old loop's half-second intervals
        assert client.get(f"collections/network/objects/{object_id}/").status_code == 404
    hub.publish_network()


def test_the_worker_keeps_planner_statistics_current_as_publication_grows_the_tables(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL plans a member's first network page after a bulk load from statistics
    autovacuum may not have gathered yet: after a publication pass that grew the tables,
    the worker's publication job analyses them (here at any growth, the threshold
    lowered), so they count what the pass wrote; a table that did not grow since is left
    alone."""
    if hub.backend != "postgres":
        pytest.skip("statistics are kept for PostgreSQL's planner")
    monkeypatch.setattr(db, "STATISTICS_MIN_PAGES", 1)
    monkeypatch.setattr(db, "STATISTICS_GROWTH", 1.0)
    hub.publish_network()  # what other tests left queued
    member = hub.member()
    with session_scope(hub.engine) as session:
        context = load_hub_context(session, hub.settings)
    with hub.client(member) as client:
        posted = client.post(
            "collections/submissions/objects/",
            content=orjson.dumps(envelope(*(indicator() for _ in range(20)))),
            headers=HEADERS,
        )
    assert posted.status_code == 202, posted.text
    publish_network(JobContext(engine=hub.engine, settings=hub.settings, network=lambda: context))
    with session_scope(hub.engine) as session:
        counted = session.execute(
            text("SELECT reltuples FROM pg_class WHERE relname = 'network_view'")
        ).scalar_one()
        stored = session.execute(select(func.count()).select_from(NetworkView)).scalar_one()
        assert counted == stored
        monkeypatch.setattr(db, "STATISTICS_GROWTH", 1.25)
        assert refresh_network_statistics(session) == []
