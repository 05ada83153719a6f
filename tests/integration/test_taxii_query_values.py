"""Query values a client may send: odd numbers and timestamps are a 400 with the reason
(never a 500), the keep-alive connection keeps working after any error, and repeated
parameters mean what they say (or are refused)."""

from __future__ import annotations

import base64
from urllib.parse import quote

import httpx

from cityshield.store.cursor import encode_cursor
from cityshield.taxii.filters import parse_filters
from tests.utils.server import Hub, submit
from tests.utils.stix import indicator

NO_FILTERS = parse_filters({}, allowed=frozenset(), default_limit=1, max_limit=1).fingerprint
"""What a token for an unfiltered objects request is bound to."""


def _local_address(response: httpx.Response) -> object:
    """The client side of the TCP connection the response came on."""
    return response.extensions["network_stream"].get_extra_info("client_addr")


def _forged_next(position: str) -> str:
    """A token shaped as the hub issues them, bound to no filters, at ``position``."""
    raw = f"{position}:{NO_FILTERS}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_odd_numbers_are_400_and_the_connection_survives(hub: Hub) -> None:
    collection = hub.collection()
    cases = {
        "limit=" + quote("²"): "limit",  # str.isdigit() is True, int() refuses it
        "limit=" + quote("٣"): "limit",  # int() reads it as 3
        "limit=" + "9" * 5000: "limit",  # over int()'s 4,300-digit limit
        "limit=" + "9" * 20: "limit",
        "next=" + encode_cursor(10**30, NO_FILTERS): "next",  # overflows the BIGINT bind
        "next=" + _forged_next(str(2**63)): "next",
        "next=" + _forged_next("-1"): "next",
        "next=" + _forged_next(" 12"): "next",
        "next=" + _forged_next("1_000"): "next",
        "added_after="
        + quote("\uff12\uff10\uff12\uff16-01-01T00:00:00Z"): "added_after",  # full-width
        "added_after=0000-01-01T00:00:00Z": "added_after",
        "added_after=2026-13-01T00:00:00Z": "added_after",
        "added_after=2026-01-01T24:00:00Z": "added_after",
        "added_after=" + quote("2026-01-01T00:00:00+24:00"): "added_after",
        "match[version]=" + quote("2026-01-01T00:00:00+99:99"): "match[version]",
    }
    with hub.client(hub.member()) as client:
        for query, word in cases.items():
            bad = client.get(f"collections/{collection}/objects/?{query}")
            assert bad.status_code == 400, (query[:60], bad.status_code, bad.text[:200])
            body = bad.json()
            assert body["title"] == "Invalid filter"
            assert word in body["description"], (query[:60], body["description"])
            assert len(body["description"]) < 300  # the value is shown cut short
            good = client.get(f"collections/{collection}/objects/")
            assert good.status_code == 200, query[:60]
            assert _local_address(good) == _local_address(bad), query[:60]


def test_repeated_match_parameters_are_or(hub: Hub) -> None:
    collection = hub.collection()
    member = hub.member()
    first, second, third = indicator(), indicator(), indicator()
    submit(hub, member, first, second, third, collection=collection)
    with hub.client(member) as client:
        both = client.get(
            f"collections/{collection}/objects/",
            params=[("match[id]", first["id"]), ("match[id]", second["id"])],
        ).json()
        mixed = client.get(
            f"collections/{collection}/manifest/",
            params=[("match[id]", f"{first['id']},{third['id']}"), ("match[id]", second["id"])],
        ).json()
        types = client.get(
            f"collections/{collection}/objects/",
            params=[("match[type]", "identity"), ("match[type]", "indicator")],
        ).json()
    assert {o["id"] for o in both["objects"]} == {first["id"], second["id"]}
    assert {o["id"] for o in mixed["objects"]} == {first["id"], second["id"], third["id"]}
    assert len(types["objects"]) == 3


def test_repeated_single_parameters_with_other_values_are_400(hub: Hub) -> None:
    collection = hub.collection()
    url = f"collections/{collection}/objects/"
    with hub.client(hub.member()) as client:
        for name, values in {
            "added_after": ["2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z"],
            "limit": ["5", "500"],
            "next": ["abc", "def"],
        }.items():
            response = client.get(url, params=[(name, v) for v in values])
            assert response.status_code == 400, name
            assert name in response.json()["description"]
        same = client.get(url, params=[("limit", "5"), ("limit", "5")])
    assert same.status_code == 200
