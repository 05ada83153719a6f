"""``/api/v1/export/{format}`` over HTTP: every format as its consumer reads it, the filters,
``max`` and its header, firewall-safe values, known-benign values, errors, the old
``/export/blocklist`` alias, and the OpenAPI description."""

from __future__ import annotations

import csv
import io
import ipaddress
import re

import orjson
import pytest

from cityshield.db import session_scope
from cityshield.exports.render import CSV_FIELDS, ZEEK_HEADER
from cityshield.store.collections import NETWORK_ALIAS, get_collection_by_alias
from tests.utils.exports import (
    amber,
    assert_taxii_error,
    domain,
    export,
    get,
    group,
    ip,
    lines,
    report,
)
from tests.utils.server import Hub
from tests.utils.stix import fresh_ipv4, indicator

SHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


@pytest.fixture(scope="module")
def hub(policy_hub: Hub) -> Hub:
    """A hub of the module's own: a member's export holds its whole view."""
    return policy_hub


def test_an_edl_is_one_value_per_line_of_what_the_caller_sees(hub: Hub) -> None:
    author, mate = group(hub, 2)
    outsider = hub.member()
    first, second = sorted([fresh_ipv4(), fresh_ipv4()])
    report(hub, author, ip(first), ip(second), ip("2001:db8:77::1"))

    response = export(hub, mate, "edl")
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert lines(response) == [first, second, "2001:db8:77::1"]
    assert response.headers["x-cityshield-count"] == "3"
    assert response.headers["x-cityshield-truncated"] == "false"
    assert lines(export(hub, outsider, "edl")) == [], "AMBER of another group"
    assert lines(export(hub, mate, "edl", type="ipv6-addr")) == ["2001:db8:77::1"]


def test_every_format_follows_its_consumers_rules(hub: Hub) -> None:
    author, mate = group(hub, 2)
    address, host = fresh_ipv4(), domain()
    report(
        hub,
        author,
        ip(address, confidence=80),
        amber(f"[domain-name:value = '{host}']"),
        amber(f"[url:value = 'https://{host}:8443/login?next=1#top']"),
        amber(f"[email-addr:value = 'phish@{host}']"),
        amber(f"[file:hashes.'SHA-256' = '{SHA256}']"),
    )

    rows = list(csv.reader(io.StringIO(export(hub, mate, "csv").text)))
    assert tuple(rows[0]) == CSV_FIELDS
    by_type = {row[1]: dict(zip(CSV_FIELDS, row, strict=True)) for row in rows[1:]}
    assert set(by_type) == {"ipv4-addr", "domain-name", "url", "email-addr", "file"}
    assert by_type["ipv4-addr"]["value"] == address
    assert by_type["ipv4-addr"]["confidence"] == "80" and by_type["ipv4-addr"]["members"] == "1"
    assert by_type["url"]["value"] == f"https://{host}:8443/login?next=1", "as reported"
    assert {row["action"] for row in by_type.values()} == {"add"}
    assert by_type["file"]["value"] == SHA256 and by_type["file"]["tlp"] == "amber"

    zeek = export(hub, mate, "zeek")
    assert zeek.text.startswith(ZEEK_HEADER)
    assert ZEEK_HEADER == "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\tmeta.url\n"
    fields = [line.split("\t") for line in lines(zeek)[1:]]
    assert all(len(f) == 5 and f[2] == "cityshield" and f[4] == "-" for f in fields)
    types = {f[1]: f[0] for f in fields}
    assert types == {
        "Intel::ADDR": address,
        "Intel::DOMAIN": host,
        "Intel::URL": f"{host}/login?next=1",  # Zeek's URLs have no scheme
        "Intel::EMAIL": f"phish@{host}",
        "Intel::FILE_HASH": SHA256,
    }

    bundle = orjson.loads(export(hub, mate, "stix").content)
    assert bundle["type"] == "bundle" and bundle["id"].startswith("bundle--")
    with hub.client(mate) as client:
        served = client.get("collections/network/objects/").json()["objects"]
    ours = {o["id"]: o for o in served if any(v in o["pattern"] for v in (address, host, SHA256))}
    assert {o["id"]: o for o in bundle["objects"]} == ours, "the member's own indicators, as signed"

    suricata = export(hub, mate, "suricata")
    assert suricata.headers["content-type"].startswith("text/csv")
    assert lines(suricata) == [f"{address},1,102"], "ip,category,score (80 -> 102 of 127)"
    for line in lines(export(hub, mate, "suricata", category="7")):
        assert re.fullmatch(r"[0-9a-f.:/]+,7,([1-9][0-9]?|1[01][0-9]|12[0-7])", line)
    categories = get(hub, mate, "/api/v1/export/suricata/categories", {"category": "7"})
    assert categories.text == "7,CityShield,cityshield network indicators\n"


def test_urls_for_firewalls_lose_scheme_port_and_wildcards(hub: Hub) -> None:
    author, mate = group(hub, 2)
    host = domain()
    report(
        hub,
        author,
        amber(f"[url:value = 'http://user:pw@{host}:8080/a/b?c=d#frag']"),
        amber(f"[url:value = 'https://{host}/star*path']"),
    )
    response = export(hub, mate, "edl", type="url")
    assert lines(response) == [f"{host}/a/b?c=d"], "PAN-OS reads * and ^ as wildcards"
    assert response.headers["x-cityshield-refused"] == "1"
    full = lines(export(hub, mate, "edl", type="url", url_form="full"))
    assert f"http://user:pw@{host}:8080/a/b?c=d" in full


def test_filters(hub: Hub) -> None:
    a, b, c = group(hub, 3)
    both, confident, weak = fresh_ipv4(), fresh_ipv4(), fresh_ipv4()
    report(hub, a, ip(weak, confidence=10))
    report(hub, a, ip(both, confidence=50), ip(confident, confidence=90))
    report(hub, b, ip(both, confidence=50))
    with hub.client(c) as client:
        manifest = client.get("collections/network/manifest/").json()["objects"]
        (weak_id,) = [
            o["id"]
            for o in client.get("collections/network/objects/").json()["objects"]
            if weak in o["pattern"]
        ]
    after_weak = next(m["date_added"] for m in manifest if m["id"] == weak_id)

    assert set(lines(export(hub, c, "edl"))) == {both, confident, weak}
    assert lines(export(hub, c, "edl", min_members="2")) == [both]
    assert set(lines(export(hub, c, "edl", min_confidence="75"))) == {both, confident}
    assert lines(export(hub, c, "edl", tlp="green")) == [], "all three are AMBER"
    assert set(lines(export(hub, c, "edl", tlp="amber"))) == {both, confident, weak}
    assert lines(export(hub, c, "edl", type="domain-name")) == []
    assert weak not in lines(export(hub, c, "edl", since=after_weak))

    # max keeps the most corroborated, then the most confident, then the most recent
    capped = export(hub, c, "edl", max="2")
    assert set(lines(capped)) == {both, confident}
    assert capped.headers["x-cityshield-truncated"] == "true"
    assert capped.headers["x-cityshield-total"] == "3"
    assert capped.headers["x-cityshield-count"] == "2"
    assert lines(export(hub, c, "edl", max="1")) == [both]
    assert export(hub, c, "edl", max="3").headers["x-cityshield-truncated"] == "false"


def test_ranges_wider_than_the_limits_are_refused_and_collapsing_stays_within_them(
    hub: Hub,
) -> None:
    author, mate = group(hub, 2)
    report(
        hub,
        author,
        ip("44.0.0.0/8"),  # an outage on every firewall
        ip("198.18.0.0/24"),
        ip("198.18.1.0/24"),
        ip("100.70.0.0/16"),
        ip("100.71.0.0/16"),
        ip("2001:db8::/16"),
    )
    plain = export(hub, mate, "edl")
    assert set(lines(plain)) == {"198.18.0.0/24", "198.18.1.0/24", "100.70.0.0/16", "100.71.0.0/16"}
    assert plain.headers["x-cityshield-refused"] == "2"
    collapsed = lines(export(hub, mate, "edl", collapse="true"))
    assert collapsed == ["100.70.0.0/16", "100.71.0.0/16", "198.18.0.0/23"], (
        "a /15 would be wider than /16: split at the limit"
    )
    addresses = {str(a) for n in collapsed for a in ipaddress.ip_network(n)}
    assert addresses == {str(a) for n in lines(plain) for a in ipaddress.ip_network(n)}
    assert lines(export(hub, mate, "suricata", collapse="true")) == [
        "100.70.0.0/16,1,64",
        "100.71.0.0/16,1,64",
        "198.18.0.0/23,1,64",
    ]
    assert lines(export(hub, mate, "zeek"))[1].split("\t")[1] == "Intel::SUBNET"


def test_known_benign_values_are_never_exported(hub: Hub) -> None:
    author, mate = group(hub, 2)
    kept = fresh_ipv4()
    report(
        hub,
        author,
        ip("8.8.8.8"),
        ip("1.1.1.0/24"),  # holds 1.1.1.1
        ip(kept),
        amber("[domain-name:value = 'login.microsoft.com']"),
    )
    for fmt in ("edl", "csv", "zeek", "suricata", "stix"):
        text = export(hub, mate, fmt, type="ipv4-addr").text
        assert kept in text and "8.8.8.8" not in text and "1.1.1.0" not in text, fmt
    assert lines(export(hub, mate, "edl", type="domain-name")) == []


@pytest.mark.parametrize(
    ("fmt", "params"),
    [
        ("edl", {"type": "domain-name,url"}),  # one kind of value per EDL
        ("edl", {"type": "ipv4-addr,x-thing"}),
        ("edl", {"min_members": "0"}),
        ("edl", {"min_members": "two"}),
        ("edl", {"min_confidence": "101"}),
        ("edl", {"tlp": "TLP:AMBER"}),
        ("edl", {"max": "0"}),
        ("edl", {"max": "١٢"}),
        ("edl", {"since": "not-a-token"}),
        ("edl", {"since": "2026-13-45T00:00:00Z"}),
        ("edl", {"since": "2026-01-01T00:00:00Z", "max": "5"}),
        ("edl", {"min_member": "2"}),  # a typo is not ignored
        ("edl", {"collapse": "yes-please"}),
        ("edl", {"url_form": "short"}),
        ("csv", {"collapse": "true"}),
        ("edl", {"collapse": "true", "type": "domain-name"}),
        ("suricata", {"type": "domain-name"}),
        ("zeek", {"category": "3"}),
        ("suricata", {"category": "61"}),
    ],
)
def test_bad_parameters_are_400_with_a_taxii_error_body(
    hub: Hub, fmt: str, params: dict[str, str]
) -> None:
    member = hub.member()
    assert_taxii_error(export(hub, member, fmt, **params), 400)


def test_a_repeated_parameter_is_400(hub: Hub) -> None:
    member = hub.member()
    response = get(hub, member, "/api/v1/export/edl?min_members=1&min_members=3")
    assert "twice" in assert_taxii_error(response, 400)["description"]


def test_401_without_credentials_and_403_without_the_network(hub: Hub) -> None:
    member = hub.member()
    assert_taxii_error(export(hub, None, "edl"), 401)
    wrong = get(hub, None, "/api/v1/export/csv", headers={"Authorization": "Bearer nope"})
    assert_taxii_error(wrong, 401)
    with session_scope(hub.engine) as session:
        network = get_collection_by_alias(session, NETWORK_ALIAS)
        roles, network.read_roles = network.read_roles, "admin"
        session.add(network)
    try:
        for fmt in ("edl", "stix"):
            assert_taxii_error(export(hub, member, fmt), 403)
        assert_taxii_error(get(hub, member, "/export/blocklist"), 403)
    finally:
        with session_scope(hub.engine) as session:
            network = get_collection_by_alias(session, NETWORK_ALIAS)
            network.read_roles = roles
            session.add(network)
    assert export(hub, member, "edl").status_code == 200


def test_the_old_blocklist_is_an_alias_of_the_edl(hub: Hub) -> None:
    author, mate = group(hub, 2)
    address = fresh_ipv4()
    report(hub, author, ip(address), amber(f"[url:value = 'http://{domain()}:81/x']"))
    old = get(hub, mate, "/export/blocklist", {"type": "ipv4-addr"})
    assert old.headers["deprecation"] == "true"
    assert "/api/v1/export/edl?type=ipv4-addr" in old.headers["link"]
    assert lines(old) == lines(export(hub, mate, "edl", type="ipv4-addr", url_form="full"))
    urls = get(hub, mate, "/export/blocklist", {"type": "url", "format": "json"}).json()
    assert urls["type"] == "url" and urls["values"][0].startswith("http://"), "URLs as reported"
    assert_taxii_error(get(hub, mate, "/export/blocklist", {"type": "x-thing"}), 400)


def test_openapi_names_each_formats_media_type(hub: Hub) -> None:
    spec = get(hub, None, "/openapi.json").json()
    media = {
        fmt: next(
            iter(spec["paths"][f"/api/v1/export/{fmt}"]["get"]["responses"]["200"]["content"])
        )
        for fmt in ("edl", "csv", "stix", "zeek", "suricata")
    }
    assert media["stix"] == "application/stix+json;version=2.1"
    assert media["csv"].startswith("text/csv") and media["edl"].startswith("text/plain")
    operation = spec["paths"]["/api/v1/export/edl"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"type", "min_members", "max", "since"}
    assert "X-CityShield-Truncated" in operation["responses"]["200"]["headers"]
    assert "304" in operation["responses"]


def test_a_green_report_reaches_every_member_but_tlp_filters_it(hub: Hub) -> None:
    author, reader = hub.member(), hub.member()
    address = fresh_ipv4()
    report(hub, author, indicator(value=address))
    assert address in lines(export(hub, reader, "edl", tlp="green"))
    assert address not in lines(export(hub, reader, "edl", tlp="clear"))
