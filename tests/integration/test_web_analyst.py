"""The analyst pages over plain HTTP (no browser), on SQLite and PostgreSQL: what each page
answers to good and bad input (the form again with the reason and a 400, never a 500),
keyset pages, a forged form refused, and the signed-revocation flow. The same pages in a
real Chromium are in ``test_web_page.py``."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import orjson
import pytest

from cityshield.dedup.iocs import key_digest
from cityshield.stix.vocabulary import TLP2_IDS
from tests.utils.server import Hub, submit
from tests.utils.stix import fresh_ipv4, indicator
from tests.utils.web import csrf, signed_in_client

RED = TLP2_IDS["red"]


def fresh_domain() -> str:
    return f"tram-{uuid.uuid4().hex[:12]}.example"


def domain_indicator(domain: str, **extra: Any) -> dict[str, Any]:
    return indicator(pattern=f"[domain-name:value = '{domain}']", **extra)


def refs(page: str) -> list[str]:
    """The detail refs of the indicator rows on a page, in order."""
    return re.findall(r'<tr (?:class="known" )?data-(?:id="[^"]*" data-)?ref="([^"]+)"', page)


def figure(page: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}">([^<]*)<', page)
    assert match, element_id
    return match.group(1)


def ref_of(client: httpx.Client, value: str) -> str:
    page = client.get("/search", params={"q": value})
    assert page.status_code == 200, page.text
    (ref,) = refs(page.text)
    return ref


def test_search_finds_any_spelling_and_says_when_nothing_matches(hub: Hub) -> None:
    city, analyst = hub.member(), hub.member("analyst")
    domain = fresh_domain()
    submit(hub, city, domain_indicator(domain, confidence=70))
    with signed_in_client(hub, analyst) as client:
        blank = client.get("/search")
        assert blank.status_code == 200 and 'id="search-form"' in blank.text
        assert "Type a value, or choose filters" in blank.text
        found = client.get("/search", params={"q": domain.upper().replace(".", "[.]")})
        assert found.status_code == 200
        assert len(refs(found.text)) == 1 and f">{domain}</a>" in found.text
        assert city.name in found.text, "reported by"
        prefix = client.get("/search", params={"q": domain[:12], "match": "prefix"})
        assert refs(prefix.text) == refs(found.text)
        none = client.get("/search", params={"q": fresh_domain()})
        assert none.status_code == 200
        assert "No indicator you may see matches." in none.text and refs(none.text) == []


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"q": "not a value at all"}, "not a recognised observable value"),
        ({"q": "x", "match": "regex"}, "match must be one of"),
        ({"min_members": "two"}, "min_members: a whole number"),
        ({"seen_after": "yesterday"}, "seen_after: not a time"),
        ({"seen_before": "2026-13-40T10:00"}, "seen_before: not a time"),
        ({"sort": "-colour"}, "sort must be one of"),
        ({"state": "asleep"}, "state must be one of"),
        ({"tlp": "purple"}, "tlp must be one of"),
        ({"limit": "0"}, "limit must be between 1 and 500"),
        ({"cursor": "bm90IG91cnM"}, "cursor is not valid"),
    ],
)
def test_a_bad_filter_shows_the_form_again_with_the_reason(
    hub: Hub, params: dict[str, str], reason: str
) -> None:
    with signed_in_client(hub, hub.member()) as client:
        answer = client.get("/search", params=params)
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"].startswith("text/html")
    assert 'id="search-form"' in answer.text and 'id="error"' in answer.text
    assert reason in answer.text
    for name, value in params.items():
        if name not in ("cursor", "match", "sort", "state", "tlp", "limit"):
            assert f'value="{value}"' in answer.text, "the form keeps what was typed"


def test_inputs_no_page_sends_are_400_pages_not_500s(hub: Hub) -> None:
    with signed_in_client(hub, hub.member()) as client:
        for path, params in [
            ("/search", {"q": "x" * 5000}),
            ("/search", {"type": "t" * 200}),
            ("/indicators/" + "x" * 300, {}),
            ("/indicators/" + "0" * 32, {"sighted": "s" * 300}),
        ]:
            answer = client.get(path, params=params)
            assert answer.status_code == 400, (path, answer.text)
            assert "<h1>Bad request</h1>" in answer.text
        times = client.get(
            "/search",
            params={"seen_after": "2026-11-20", "seen_before": "2026-11-21T10:00", "type": "url"},
        )
        assert times.status_code == 200


def test_next_page_links_walk_every_result_once(hub: Hub) -> None:
    city, analyst = hub.member(), hub.member("analyst")
    stem = f"page-{uuid.uuid4().hex[:10]}"
    domains = [f"{stem}-{i}.example" for i in range(5)]
    submit(hub, city, *(domain_indicator(d) for d in domains))
    with signed_in_client(hub, analyst) as client:
        params = {"q": stem, "match": "prefix", "sort": "value", "limit": "2"}
        page = client.get("/search", params=params)
        assert "5 indicators you may see match." in page.text
        assert 'id="first-page"' not in page.text
        seen: list[str] = refs(page.text)
        for _ in range(5):
            link = re.search(r'href="/ui/search\?([^"]+)" id="next-page"', page.text)
            if link is None:
                break
            page = client.get("/search?" + link.group(1).replace("&amp;", "&"))
            assert page.status_code == 200 and 'id="first-page"' in page.text
            seen += refs(page.text)
        values = re.findall(rf">({stem}-\d\.example)</a>", page.text)
    assert len(seen) == len(set(seen)) == 5
    assert values == [domains[4]], "sorted by value, the last page holds the last one"


def test_bulk_lookup_answers_known_and_unknown(hub: Hub) -> None:
    city, other, analyst = hub.member(), hub.member(), hub.member("analyst")
    ip, domain, red = fresh_ipv4(), fresh_domain(), fresh_domain()
    submit(hub, city, indicator(value=ip, confidence=60), domain_indicator(domain))
    submit(hub, other, domain_indicator(red, object_marking_refs=[RED]))
    pasted = "\n".join(
        [f"  {ip}/32", "", domain.upper().replace(".", "[.]"), red, "not a value", fresh_ipv4()]
    )
    with signed_in_client(hub, analyst) as client:
        form = client.get("/lookup")
        assert form.status_code == 200 and 'id="lookup-form"' in form.text
        answer = client.post("/lookup", data={"values": pasted, "csrf_token": csrf(form.text)})
        assert answer.status_code == 200, answer.text
        page = answer.text
        assert "<strong>2 known</strong> of 5" in page
        assert page.count('<tr class="known"') == 2 and page.count('<tr class="unknown"') == 3
        assert "not a recognised observable value" in page
        assert red in page, "listed as typed, and unknown: only a RED report names it"
        assert f">{red}</a>" not in page
        assert f"  {ip}/32" in page, "the box keeps what was pasted"
        known_only = client.post(
            "/lookup", data={"values": pasted, "known_only": "1", "csrf_token": csrf(page)}
        )
        assert known_only.text.count('<tr class="unknown"') == 0


def test_a_lookup_too_big_empty_or_forged_is_refused(hub: Hub) -> None:
    with signed_in_client(hub, hub.member()) as client:
        token = csrf(client.get("/lookup").text)
        many = "\n".join(f"10.0.{i // 256 % 256}.{i % 256}" for i in range(10_001))
        too_many = client.post("/lookup", data={"values": many, "csrf_token": token})
        assert too_many.status_code == 400
        assert "At most 10000 values per lookup; got 10001." in too_many.text
        assert 'id="lookup-form"' in too_many.text
        empty = client.post("/lookup", data={"values": " \n ", "csrf_token": token})
        assert empty.status_code == 400 and "Paste at least one value" in empty.text
        forged = client.post("/lookup", data={"values": "192.0.2.1"})
        assert forged.status_code == 403 and "<h1>Form refused</h1>" in forged.text


def test_a_sighting_from_the_detail_page_changes_the_corroboration(hub: Hub) -> None:
    city, analyst = hub.member(), hub.member("analyst")
    domain = fresh_domain()
    submit(hub, city, domain_indicator(domain, confidence=60))
    with signed_in_client(hub, analyst) as client:
        ref = ref_of(client, domain)
        before = client.get(f"/indicators/{ref}")
        assert before.status_code == 200
        assert (
            figure(before.text, "members") == "1" and figure(before.text, "sightings-count") == "0"
        )
        token = csrf(before.text)
        path = f"/indicators/{ref}/sightings"
        refused = [
            client.post(path, data={"count": "3"}),  # no CSRF token: another site's form
            client.post(path, data={"count": "three", "csrf_token": token}),
            client.post(path, data={"confidence": "101", "csrf_token": token}),
            client.post(
                path,
                data={
                    "first_seen": "2026-11-20T10:00",
                    "last_seen": "2026-11-20T09:00",
                    "csrf_token": token,
                },
            ),
            client.post(path, data={"first_seen": "soon", "csrf_token": token}),
        ]
        assert [r.status_code for r in refused] == [403, 400, 400, 400, 400]
        assert "count" in refused[1].text and "last_seen must not be earlier" in refused[3].text
        unchanged = client.get(f"/indicators/{ref}").text
        assert figure(unchanged, "sightings-count") == "0", "refused forms stored nothing"

        posted = client.post(
            path,
            data={
                "first_seen": "2026-11-20T10:02",
                "count": "3",
                "confidence": "80",
                "tlp": "green",
                "description": "blocked at the tram-ticket proxy",
                "csrf_token": token,
            },
        )
        assert posted.status_code == 303
        location = posted.headers["location"]
        assert location.startswith(f"/ui/indicators/{ref}?sighted=sighting--")
        after = client.get(location.removeprefix("/ui")).text
    assert figure(after, "members") == "2" and figure(after, "sightings-count") == "1"
    assert 'id="notice"' in after and "is stored and counts" in after
    assert "blocked at the tram-ticket proxy" in after
    assert '<span class="badge yours">yours</span>' in after


def test_another_members_red_report_is_unknown_on_every_page(hub: Hub) -> None:
    city, viewer = hub.member(), hub.member()
    domain = fresh_domain()
    submit(hub, city, domain_indicator(domain, object_marking_refs=[RED]))
    ref = key_digest(f"domain-name:value={domain}").hex()
    with signed_in_client(hub, viewer) as client:
        search = client.get("/search", params={"q": domain})
        assert "No indicator you may see matches." in search.text
        assert domain not in client.get("/search", params={"member": city.name}).text
        lookup = client.post(
            "/lookup", data={"values": domain, "csrf_token": csrf(client.get("/lookup").text)}
        )
        assert "<strong>0 known</strong> of 1" in lookup.text
        hidden = client.get(f"/indicators/{ref}")
        absent = client.get("/indicators/" + "0" * 32)
        assert hidden.status_code == absent.status_code == 404
        assert domain not in client.get("/").text


def test_revoking_from_the_page(hub: Hub) -> None:
    city, analyst, other = hub.member(), hub.member("analyst"), hub.member()
    domain = fresh_domain()
    original = domain_indicator(domain)
    submit(hub, city, original)
    report = original["id"]

    # the analyst's sighting, signed by the hub: one button
    with signed_in_client(hub, analyst) as client:
        ref = ref_of(client, domain)
        page = client.get(f"/indicators/{ref}").text
        client.post(f"/indicators/{ref}/sightings", data={"csrf_token": csrf(page)})
        hub.publish_network()
        page = client.get(f"/indicators/{ref}").text
        (sighting,) = re.findall(r'<tr data-id="(sighting--[^"]+)" class="yours">', page)
        assert f'action="/ui/reports/{sighting}/revoke"' in page
        assert f"/ui/reports/{report}/revoke" not in page, "not the analyst's report"
        done = client.post(
            f"/reports/{sighting}/revoke", data={"indicator": ref, "csrf_token": csrf(page)}
        )
        assert done.status_code == 303
        assert done.headers["location"] == f"/ui/indicators/{ref}?revoked={sighting}#reports"
        after = client.get(done.headers["location"].removeprefix("/ui")).text
        assert f"Your report {sighting} is revoked" in after
        again = client.post(
            f"/reports/{sighting}/revoke", data={"indicator": ref, "csrf_token": csrf(after)}
        )
        assert again.status_code == 409

    # another member's report: the same 404 as none at all
    with signed_in_client(hub, other) as client:
        assert client.get(f"/reports/{report}/revoke").status_code == 404
        assert client.get(f"/reports/indicator--{uuid.uuid4()}/revoke").status_code == 404

    # the city's own report, signed by its key: the page shows what to sign
    with signed_in_client(hub, city) as client:
        page = client.get(f"/indicators/{ref}").text
        assert f'href="/ui/reports/{report}/revoke?indicator={ref}"' in page
        how = client.get(f"/reports/{report}/revoke", params={"indicator": ref})
        assert how.status_code == 200 and "cityshield sign --key" in how.text
        file = client.get(f"/reports/{report}/revocation.json")
        assert "attachment" in file.headers["content-disposition"]
        unsigned = file.json()
        assert unsigned["revoked"] is True and unsigned["id"] == report
        token = csrf(how.text)
        unsigned_post = client.post(
            f"/reports/{report}/revoke",
            data={"signed": orjson.dumps(unsigned).decode(), "indicator": ref, "csrf_token": token},
        )
        assert unsigned_post.status_code == 400 and "signature" in unsigned_post.text
        empty = client.post(f"/reports/{report}/revoke", data={"csrf_token": token})
        assert empty.status_code == 400 and "sign its revoked version" in empty.text
        not_json = client.post(
            f"/reports/{report}/revoke", data={"signed": "{", "csrf_token": token}
        )
        assert not_json.status_code == 400 and "not JSON" in not_json.text
        (signed,) = city.sign(unsigned)
        bundle = {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": [signed]}
        done = client.post(
            f"/reports/{report}/revoke",
            data={
                "signed": orjson.dumps(bundle).decode(),
                "indicator": ref,
                "csrf_token": token,
            },
        )
        assert done.status_code == 303, done.text
        after = client.get(done.headers["location"].removeprefix("/ui")).text
    assert f"Your report {report} is revoked" in after
    assert 'class="state state-revoked">revoked</span>' in after


def test_dashboard_rows_link_to_their_detail_pages(hub: Hub) -> None:
    city = hub.member()
    ip = fresh_ipv4()
    submit(hub, city, indicator(value=ip))
    with signed_in_client(hub, city) as client:
        dashboard = client.get("/").text
        link = re.search(
            rf'<a href="/ui(/indicators/indicator--[^"]+)">{re.escape(ip)}</a>', dashboard
        )
        assert link, "the newest indicators link to their pages"
        detail = client.get(link.group(1))
    assert detail.status_code == 200 and f'id="indicator-value">{ip}</h1>' in detail.text


def test_the_pages_need_a_session(hub: Hub) -> None:
    with httpx.Client(base_url=f"{hub.base_url}/ui") as client:
        for path in ("/search?q=x", "/lookup", "/indicators/" + "0" * 32, "/reports/x/revoke"):
            answer = client.get(path)
            assert answer.status_code == 303 and answer.headers["location"] == "/ui/signin"
        answer = client.post("/lookup", data={"values": "192.0.2.1"})
        assert answer.status_code == 403
