"""The analyst REST API (/api/v1) over the real server, on SQLite and PostgreSQL: search,
bulk lookup, detail, sightings, revocation, statistics and health, for every role, and
always through the sharing policy (another member's TLP:RED is never found, counted or
named)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from cityshield.signing.placement import without_signature
from cityshield.stix.vocabulary import TLP2_IDS
from tests.utils.server import Hub, TestMember, submit
from tests.utils.stix import fresh_ipv4, indicator

RED = TLP2_IDS["red"]


def api(hub: Hub, member: TestMember | None) -> httpx.Client:
    auth = (member.name, member.token) if member else None
    return httpx.Client(base_url=f"{hub.base_url}/api/v1/", auth=auth, timeout=60)


def fresh_domain() -> str:
    return f"tram-{uuid.uuid4().hex[:12]}.example"


def domain_indicator(domain: str, **extra: Any) -> dict[str, Any]:
    return indicator(pattern=f"[domain-name:value = '{domain}']", **extra)


def get(hub: Hub, who: TestMember, path: str, **params: Any) -> Any:
    with api(hub, who) as client:
        response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def post(hub: Hub, who: TestMember, path: str, body: Any, status: int = 200) -> Any:
    with api(hub, who) as client:
        response = client.post(path, json=body)
    assert response.status_code == status, response.text
    return response.json()


def test_a_defanged_upper_case_value_finds_the_indicator(hub: Hub) -> None:
    city, analyst = hub.member(), hub.member("analyst")
    domain = fresh_domain()
    submit(hub, city, domain_indicator(domain, confidence=70))
    defanged = domain.upper().replace(".", "[.]")
    page = get(hub, analyst, "indicators", q=defanged)
    assert page["total"] == 1 and page["next"] is None
    (found,) = page["results"]
    assert found["key"] == f"domain-name:value={domain}"
    assert found["value"] == domain
    assert found["contributors"] == [city.name]
    assert found["corroboration"]["members"] == 1
    assert found["corroboration"]["confidence"] == 70
    assert found["indicator_id"].startswith("indicator--")
    # the same by prefix and substring (defanged too), and by type
    assert get(hub, analyst, "indicators", prefix=defanged[:10])["total"] >= 1
    middle = domain[5:12]
    assert found in get(hub, analyst, "indicators", contains=middle, type="domain-name")["results"]
    assert get(hub, analyst, "indicators", q=defanged, type="ipv4-addr")["total"] == 0


def test_another_members_red_report_is_never_found_counted_or_named(hub: Hub) -> None:
    city, viewer, admin = hub.member(), hub.member("analyst"), hub.member("admin")
    domain, ip = fresh_domain(), fresh_ipv4()
    before = get(hub, viewer, "stats")
    submit(hub, city, domain_indicator(domain, object_marking_refs=[RED]))
    submit(hub, city, indicator(value=ip, object_marking_refs=[RED]))
    for who in (viewer, admin):  # RED never enters the network, not even for admins
        assert get(hub, who, "indicators", q=domain)["total"] == 0
        assert get(hub, who, "indicators", member=city.name)["total"] == 0
        answers = post(hub, who, "lookup", {"values": [domain, ip]})
        assert [a["known"] for a in answers["answers"]] == [False, False]
        assert answers["answers"][0]["indicator"] is None
    after = get(hub, viewer, "stats")
    assert after["total"] == before["total"]
    assert city.name not in {m["member"] for m in after["by_member"]}
    ref = answers["answers"][0]["key"]
    assert ref == f"domain-name:value={domain}"
    with api(hub, viewer) as client:
        missing = client.get("indicators/" + "0" * 32)
        hidden = client.get(f"indicators/{_ref_of(hub, domain)}")
    assert missing.status_code == hidden.status_code == 404
    assert missing.json()["title"] == hidden.json()["title"]


def _ref_of(hub: Hub, domain: str) -> str:
    from cityshield.dedup.iocs import key_digest

    return key_digest(f"domain-name:value={domain}").hex()


def test_bulk_lookup_reads_every_spelling(hub: Hub) -> None:
    city, analyst = hub.member(), hub.member("analyst")
    domain, ip = fresh_domain(), fresh_ipv4()
    sha256 = uuid.uuid4().hex * 2
    url = f"http://{domain}/login"
    submit(
        hub,
        city,
        domain_indicator(domain),
        indicator(value=ip),
        indicator(pattern=f"[file:hashes.'SHA-256' = '{sha256}']"),
        indicator(pattern=f"[url:value = '{url}']"),
    )
    values = [
        f"{ip}/32",
        ip.replace(".", "[.]"),
        sha256.upper(),
        f"hxxp://{domain.replace('.', '[.]')}:80/login",
        domain.upper() + ".",
        "not a value",
        fresh_ipv4(),
    ]
    result = post(hub, analyst, "lookup", {"values": values})
    answers = result["answers"]
    assert [a["input"] for a in answers] == values
    assert [a["known"] for a in answers] == [True] * 5 + [False, False]
    assert result["known"] == 5 and result["unknown"] == 2
    assert [a["observable_type"] for a in answers[:5]] == [
        "ipv4-addr",
        "ipv4-addr",
        "file",
        "url",
        "domain-name",
    ]
    assert answers[2]["key"] == f"file:hashes.'SHA-256'={sha256}"
    assert answers[3]["indicator"]["value"] == url
    assert answers[5]["problem"] and answers[5]["observable_type"] is None
    assert answers[6]["problem"] is None
    for known in answers[:5]:
        assert known["indicator"]["contributors"] == [city.name]
        assert known["indicator"]["corroboration"]["first_seen"]


def test_bulk_lookup_refuses_more_than_ten_thousand_values(hub: Hub) -> None:
    analyst = hub.member("analyst")
    with api(hub, analyst) as client:
        too_many = client.post("lookup", json={"values": ["198.51.100.1"] * 10_001})
        not_json = client.post("lookup", content=b"{", headers={"content-type": "application/json"})
        no_body = client.post("lookup")
    assert too_many.status_code == not_json.status_code == no_body.status_code == 400
    with api(hub, None) as client:
        assert client.post("lookup", json={"values": []}).status_code == 401


def test_search_pages_with_an_opaque_cursor(hub: Hub) -> None:
    city, other, analyst = hub.member(), hub.member(), hub.member("analyst")
    stem = f"page-{uuid.uuid4().hex[:8]}"
    domains = [f"{stem}-{i}.example" for i in range(5)]
    submit(hub, city, *(domain_indicator(d) for d in domains))
    submit(hub, other, domain_indicator(domains[3]))
    seen: list[str] = []
    params: dict[str, Any] = {"prefix": stem, "sort": "value", "limit": 2}
    for _ in range(5):
        page = get(hub, analyst, "indicators", **params)
        assert page["total"] == 5
        seen += [r["value"] for r in page["results"]]
        if page["next"] is None:
            break
        params["cursor"] = page["next"]
    assert seen == domains
    by_members = get(hub, analyst, "indicators", prefix=stem, sort="-members", limit=1)
    assert by_members["results"][0]["value"] == domains[3]
    assert get(hub, analyst, "indicators", prefix=stem, min_members=2)["total"] == 1
    assert get(hub, analyst, "indicators", prefix=stem, member=other.name)["total"] == 1
    assert get(hub, analyst, "indicators", prefix=stem, member="nobody-such")["total"] == 0
    assert get(hub, analyst, "indicators", prefix=stem, tlp="green")["total"] == 5
    assert get(hub, analyst, "indicators", prefix=stem, tlp="amber")["total"] == 0
    assert (
        get(hub, analyst, "indicators", prefix=stem, seen_before="2000-01-01T00:00:00Z")["total"]
        == 0
    )
    with api(hub, analyst) as client:
        first = client.get("indicators", params={"prefix": stem, "limit": 2}).json()
        reused = client.get("indicators", params={"prefix": "x", "cursor": first["next"]})
        forged = client.get("indicators", params={"prefix": stem, "cursor": "bm90IG91cnM"})
        bad_time = client.get("indicators", params={"seen_after": "yesterday"})
    assert reused.status_code == forged.status_code == bad_time.status_code == 400
    assert reused.json()["http_status"] == "400"


def test_detail_versions_signatures_sightings_and_timeline(hub: Hub) -> None:
    city, analyst, third = hub.member(), hub.member("analyst"), hub.member()
    domain = fresh_domain()
    first = domain_indicator(domain, confidence=40)
    submit(hub, city, first)
    revised = {**first, "modified": "2026-11-20T09:30:00.000Z", "confidence": 60}
    submit(hub, city, revised)
    (found,) = get(hub, analyst, "indicators", q=domain)["results"]
    detail = get(hub, analyst, f"indicators/{found['ref']}")
    assert detail["indicator"] == found
    assert detail["network_indicator"]["id"] == found["indicator_id"]
    (report,) = detail["reports"]
    assert report["member"] == city.name and not report["yours"]
    assert report["signature"]["signer"] == "member"
    assert report["signature"]["status"] == "valid"
    assert [v["object"]["confidence"] for v in report["versions"]] == [40, 60]
    events = [(e["event"], e["object_id"]) for e in detail["timeline"]]
    assert events == [
        ("reported", first["id"]),
        ("published", found["indicator_id"]),
        ("revised", first["id"]),
        ("updated", found["indicator_id"]),
    ]
    assert detail["deliveries"] == []
    assert get(hub, analyst, f"indicators/{found['indicator_id']}") == detail

    receipt = post(
        hub,
        analyst,
        f"indicators/{found['ref']}/sightings",
        {"count": 3, "tlp": "green", "confidence": 80, "description": "seen on our proxy"},
        status=201,
    )
    assert receipt["sighting_of_ref"] == found["indicator_id"]
    hub.publish_network()
    mine = get(hub, analyst, f"indicators/{found['ref']}")
    (sighting,) = mine["sightings"]
    assert sighting["object_id"] == receipt["id"]
    assert sighting["yours"] and sighting["member"] == analyst.name
    assert sighting["signature"]["signer"] == "hub"
    assert sighting["versions"][0]["object"]["count"] == 3
    assert mine["indicator"]["corroboration"]["members"] == 2
    assert mine["indicator"]["corroboration"]["sightings"] == 1
    assert "sighted" in [e["event"] for e in mine["timeline"]]
    theirs = get(hub, third, f"indicators/{found['ref']}")
    assert theirs["sightings"][0]["member"] is None  # hub-signed: names nobody
    assert theirs["indicator"]["contributors"] == [city.name]
    assert get(hub, third, "indicators", q=domain, member=analyst.name)["total"] == 0
    assert get(hub, analyst, "indicators", q=domain, member=analyst.name)["total"] == 1


def test_a_sighting_of_an_invisible_or_unknown_indicator_is_not_found(hub: Hub) -> None:
    city, analyst = hub.member(), hub.member("analyst")
    domain = fresh_domain()
    submit(hub, city, domain_indicator(domain, object_marking_refs=[RED]))
    with api(hub, analyst) as client:
        hidden = client.post(f"indicators/{_ref_of(hub, domain)}/sightings", json={})
        bad = client.post("indicators/" + "0" * 32 + "/sightings", json={"count": -1})
    assert hidden.status_code == 404
    assert bad.status_code == 400


def test_revoking_ones_own_reports_only(hub: Hub) -> None:
    city, analyst, other = hub.member(), hub.member("analyst"), hub.member()
    domain = fresh_domain()
    original = domain_indicator(domain)
    submit(hub, city, original)
    (found,) = get(hub, analyst, "indicators", q=domain)["results"]
    sighting = post(hub, analyst, f"indicators/{found['ref']}/sightings", {}, status=201)
    hub.publish_network()

    # another member's report, or no report at all: the same 404
    with api(hub, other) as client:
        theirs = client.post(f"reports/{original['id']}/revoke")
        absent = client.post(f"reports/indicator--{uuid.uuid4()}/revoke")
        template = client.get(f"reports/{original['id']}/revocation")
    assert theirs.status_code == absent.status_code == template.status_code == 404
    assert theirs.json()["description"].split("'")[0] == absent.json()["description"].split("'")[0]

    # the hub signed the analyst's sighting: it revokes it itself
    revoked = post(hub, analyst, f"reports/{sighting['id']}/revoke", None)
    assert revoked["signed_by"] == "hub"

    # the city signed its report: it signs the revocation
    unsigned = get(hub, city, f"reports/{original['id']}/revocation")
    assert unsigned["revoked"] is True and unsigned == without_signature(unsigned)
    with api(hub, city) as client:
        assert client.post(f"reports/{original['id']}/revoke").status_code == 400
        forged = client.post(f"reports/{original['id']}/revoke", json={"object": unsigned})
    assert forged.status_code == 400 and "signature" in forged.json()["description"]
    (signed,) = city.sign(unsigned)
    done = post(hub, city, f"reports/{original['id']}/revoke", {"object": signed})
    assert done == {"id": original["id"], "version": unsigned["modified"], "signed_by": "member"}
    hub.publish_network()
    (after,) = get(hub, analyst, "indicators", q=domain)["results"]
    assert after["corroboration"]["state"] == "revoked"
    with api(hub, city) as client:
        assert client.post(f"reports/{original['id']}/revoke").status_code == 409


def test_stats_count_per_member_type_and_day(hub: Hub) -> None:
    city, analyst = hub.member(), hub.member("analyst")
    before = get(hub, analyst, "stats")
    submit(hub, city, domain_indicator(fresh_domain()), indicator(value=fresh_ipv4()))
    after = get(hub, analyst, "stats")
    assert after["total"] == before["total"] + 2
    (row,) = [m for m in after["by_member"] if m["member"] == city.name]
    assert row == {"member": city.name, "reports": 2, "sightings": 0}
    assert len(after["by_day"]) == 31
    assert sum(d["reports"] for d in after["by_day"]) == sum(t["reports"] for t in after["by_type"])
    assert after["by_day"][-1]["reports"] >= 2
    types = {t["observable_type"] for t in after["by_type"]}
    assert {"domain-name", "ipv4-addr"} <= types
    with api(hub, analyst) as client:
        assert client.get("stats", params={"since": "2020-01-01T00:00:00Z"}).status_code == 400


@pytest.mark.parametrize("role", ["member", "analyst", "admin"])
def test_every_role_reads_and_nobody_unauthenticated(hub: Hub, role: str) -> None:
    city, caller = hub.member(), hub.member(role)
    domain = fresh_domain()
    submit(hub, city, domain_indicator(domain))
    assert get(hub, caller, "indicators", q=domain)["total"] == 1
    assert post(hub, caller, "lookup", {"values": [domain]})["known"] == 1
    assert get(hub, caller, "stats")["total"] >= 1
    with api(hub, None) as client:
        for path in ("indicators", "stats", "indicators/" + "0" * 32):
            response = client.get(path)
            assert response.status_code == 401
            assert "WWW-Authenticate" in response.headers


def test_health(hub: Hub) -> None:
    with httpx.Client(base_url=hub.base_url, timeout=30) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        ready = client.get("/readyz")
        docs = client.get("/docs")
        spec = client.get("/openapi.json").json()
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    assert ready.json()["revision"] == ready.json()["head"]
    assert docs.status_code == 200
    for path in ("/api/v1/indicators", "/api/v1/lookup", "/api/v1/stats", "/readyz"):
        assert path in spec["paths"]
