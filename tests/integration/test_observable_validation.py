"""Impossible observables and costly patterns, end to end: refused per object at ingest with
the reason in the status, never on a firewall list -- not even when stored earlier."""

from __future__ import annotations

import uuid
from typing import Any

from tests.utils.server import Hub, TestMember, ingest_in_process, submit
from tests.utils.stix import fresh_ipv4, indicator


def report(pattern: str) -> dict[str, Any]:
    return indicator(pattern=pattern)


def ors(n: int) -> str:
    comparisons = (f"ipv4-addr:value = '10.0.{i // 250}.{i % 250}'" for i in range(n))
    return "[" + " OR ".join(comparisons) + "]"


def exported(hub: Hub, member: TestMember, observable_type: str) -> list[str]:
    with hub.client(member) as client:
        response = client.get(f"../export/blocklist?type={observable_type}&format=json")
    assert response.status_code == 200, response.text
    values: list[str] = response.json()["values"]
    return values


def test_bad_values_and_costly_patterns_fail_per_object_and_valid_ones_land(hub: Hub) -> None:
    member = hub.member()
    good_ip, good_domain = fresh_ipv4(), f"c2-{uuid.uuid4().hex[:10]}.example"
    good = [
        report(f"[ipv4-addr:value = '{good_ip}']"),
        report(f"[domain-name:value = '{good_domain}']"),
    ]
    long_ip = "1" * 100_000
    nul_domain = f"evil\x00{uuid.uuid4().hex[:8]}.example"
    bad = {
        "octet": report("[ipv4-addr:value = '999.1.1.1']"),
        "digits": report(f"[ipv4-addr:value = '{long_ip}']"),
        "nul": report(f"[domain-name:value = '{nul_domain}']"),
        "ors": report(ors(5000)),
        "comparisons": report(ors(300)),
    }
    status = submit(hub, member, good[0], *bad.values(), good[1], clean=False)

    assert status["total_count"] == 7
    assert sorted(s["id"] for s in status["successes"]) == sorted(o["id"] for o in good)
    reasons = {f["id"]: f["message"] for f in status["failures"]}
    assert reasons.keys() == {o["id"] for o in bad.values()}
    assert reasons[bad["octet"]["id"]].startswith(
        "pattern value '999.1.1.1' is not a valid ipv4-addr: Octet 999 (> 255)"
    )
    assert reasons[bad["digits"]["id"]] == "pattern is 100022 characters; the limit is 16384"
    assert reasons[bad["nul"]["id"]].endswith("contains a control character (U+0000)")
    assert reasons[bad["ors"]["id"]] == "pattern is 170298 characters; the limit is 16384"
    assert reasons[bad["comparisons"]["id"]] == "pattern has 300 comparisons; the limit is 256"

    with hub.client(member) as client:
        for obj in bad.values():
            response = client.get(f"collections/submissions/objects/{obj['id']}/")
            assert response.status_code == 404, "a refused object is not stored"
    ips, domains = exported(hub, member, "ipv4-addr"), exported(hub, member, "domain-name")
    assert good_ip in ips and good_domain in domains
    assert "999.1.1.1" not in ips and long_ip not in ips
    assert not any("\x00" in value for value in domains)


def test_values_stored_before_ingest_checked_them_never_reach_an_export(hub: Hub) -> None:
    """Objects accepted by the old validator (simulated by ingesting without one): the
    publisher skips what it can no longer publish, and the export writes only values valid
    for its list -- including a domain list that used to carry an IP from a resolves_to path."""
    member = hub.member()
    good_ip, resolved_ip = fresh_ipv4(), fresh_ipv4()
    # a newline (PostgreSQL cannot store a NUL in text) would split a txt export's line
    split_domain = f"evil\n{uuid.uuid4().hex[:8]}.example"
    objects = [
        report(f"[ipv4-addr:value = '{good_ip}']"),
        report("[ipv4-addr:value = '999.1.1.1']"),
        report(f"[domain-name:value = '{split_domain}']"),
        report(f"[domain-name:resolves_to_refs[*].value = '{resolved_ip}']"),
        report("[file:name = 'invoice.pdf.exe']"),
    ]
    # the old validator let these through
    status = ingest_in_process(hub, member, *objects, validate=lambda obj: None)
    assert status.failure_count == 0
    hub.publish_network()  # must not fail the batch on the unpublishable ones

    ips = exported(hub, member, "ipv4-addr")
    assert good_ip in ips
    assert "999.1.1.1" not in ips
    domains = exported(hub, member, "domain-name")
    assert split_domain not in domains and resolved_ip not in domains
    assert "invoice.pdf.exe" not in exported(hub, member, "file"), "a file list holds hashes"
