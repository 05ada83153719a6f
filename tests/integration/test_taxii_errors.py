"""Bad input gets a clear TAXII error or a per-object failure, never a 500 or partial write."""

from __future__ import annotations

import orjson

from tests.utils.server import TAXII, Hub
from tests.utils.stix import envelope, indicator

HEADERS = {"Content-Type": TAXII}


def _post(client, collection: str, body: bytes):  # type: ignore[no-untyped-def]
    return client.post(f"collections/{collection}/objects/", content=body, headers=HEADERS)


def test_not_json_is_400(hub: Hub) -> None:
    with hub.client(hub.member()) as client:
        response = _post(client, hub.collection(), b"{not json")
    assert response.status_code == 400
    assert response.json()["title"] == "Invalid envelope"


def test_envelope_without_objects_list_is_400(hub: Hub) -> None:
    with hub.client(hub.member()) as client:
        collection = hub.collection()
        for body in [b"[]", b'{"objects": {}}', b'{"more": false}', b'"x"', b"null"]:
            response = _post(client, collection, body)
            assert response.status_code == 400, body
            assert (
                "objects" in response.json()["description"]
                or "envelope" in response.json()["description"]
            )


def test_body_over_limit_is_413(hub: Hub) -> None:
    limit = hub.settings.max_content_length
    with hub.client(hub.member()) as client:
        big = envelope(indicator(description="x" * limit))
        response = _post(client, hub.collection(), orjson.dumps(big))
    assert response.status_code == 413
    assert response.json()["title"] == "Request entity too large"


def test_invalid_objects_fail_individually_and_valid_ones_land(hub: Hub) -> None:
    good = indicator()
    bad_pattern = indicator(pattern="[ipv4-addr:value = ]")
    bad_id = indicator(object_id="indicator--not-a-uuid")
    missing = {k: v for k, v in indicator().items() if k != "pattern"}
    collection = hub.collection()
    with hub.client(hub.member()) as client:
        status = _post(
            client,
            collection,
            orjson.dumps(envelope(good, bad_pattern, bad_id, missing, "junk", 7)),  # type: ignore[arg-type]
        ).json()
        stored = client.get(f"collections/{collection}/objects/").json()
    assert status["total_count"] == 6
    assert status["success_count"] == 1
    assert status["failure_count"] == 5
    assert [s["id"] for s in status["successes"]] == [good["id"]]
    reasons = {f["id"]: f["message"] for f in status["failures"]}
    assert "pattern" in reasons[bad_pattern["id"]]
    assert reasons[bad_id["id"]]
    assert all(f["message"] for f in status["failures"])
    assert [o["id"] for o in stored["objects"]] == [good["id"]]


def test_odd_filter_values_are_400_with_reason(hub: Hub) -> None:
    collection = hub.collection()
    cases = {
        "added_after=yesterday": "added_after",
        "limit=0": "limit",
        "limit=abc": "limit",
        "limit=-5": "limit",
        "match[version]=newest": "match[version]",
        "match[spec_version]=9.9": "match[spec_version]",
        "match[colour]=red": "match[colour]",
        "match[type]=": "match[type]",
        "next=%%%": "next",
    }
    with hub.client(hub.member()) as client:
        for query, word in cases.items():
            response = client.get(f"collections/{collection}/objects/?{query}")
            assert response.status_code == 400, query
            body = response.json()
            assert body["title"] == "Invalid filter", query
            assert word in body["description"], (query, body["description"])


def test_match_fields_not_allowed_on_object_endpoint_are_400(hub: Hub) -> None:
    collection = hub.collection()
    obj = indicator()
    with hub.client(hub.member()) as client:
        _post(client, collection, orjson.dumps(envelope(obj)))
        response = client.get(
            f"collections/{collection}/objects/{obj['id']}/?match[type]=indicator"
        )
    assert response.status_code == 400
