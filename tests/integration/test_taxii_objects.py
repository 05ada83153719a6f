"""Objects, manifest, versions, object by id, delete, status: filters and pagination."""

from __future__ import annotations

import json

import httpx
import orjson

from cityshield.timefmt import parse_timestamp
from tests.utils.server import TAXII, Hub
from tests.utils.stix import envelope, indicator, stamp

HEADERS = {"Content-Type": TAXII}


def post(client: httpx.Client, collection: str, *objects: dict) -> dict:
    response = client.post(
        f"collections/{collection}/objects/",
        content=orjson.dumps(envelope(*objects)),
        headers=HEADERS,
    )
    assert response.status_code == 202, response.text
    assert response.headers["content-type"] == TAXII
    return response.json()


def test_objects_are_served_exactly_as_submitted(hub: Hub) -> None:
    collection = hub.collection()
    original = (
        '{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-'
        '98ee46b3cd3f","created":"2026-11-20T09:15:00.000Z","modified":"2026-11-20T09:15:00.000Z",'
        '"name":"caf\\u00e9 \U0001f600 \\\\ \\t \\n \\" \\\\N",'
        '"pattern":"[ipv4-addr:value = \'198.51.100.7\']",'
        '"pattern_type":"stix","valid_from":"2026-11-20T09:15:00Z","confidence":80,'
        '"x_city_note":{"nested":[1,2.5,true,null]}}'
    )
    member = hub.member()
    signature = member.sign(json.loads(original))[0]["extensions"]
    # Insert the signature extension into the raw text, keeping every other byte as written.
    signed = original[:-1] + ',"extensions":' + json.dumps(signature) + "}"
    with hub.client(member, sign=False) as client:
        response = client.post(
            f"collections/{collection}/objects/",
            content=('{"objects":[' + signed + "]}").encode(),
            headers=HEADERS,
        )
        assert response.json()["success_count"] == 1, response.text
        served = client.get(f"collections/{collection}/objects/").json()["objects"][0]
    expected = json.loads(signed)
    assert served == expected
    assert list(served) == list(expected), "key order is kept"
    assert "pattern_version" not in served, "no stix2 defaults added"


def test_status_resource_and_its_privacy(hub: Hub) -> None:
    collection = hub.collection()
    submitter, other, admin = hub.member(), hub.member(), hub.member(role="admin")
    obj = indicator()
    with hub.client(submitter) as client:
        status = post(client, collection, obj)
        again = client.get(f"status/{status['id']}/").json()
    assert status["status"] == "complete"
    assert status["successes"] == [{"id": obj["id"], "version": obj["modified"]}]
    assert again == status
    with hub.client(other) as client:
        assert client.get(f"status/{status['id']}/").status_code == 404
    with hub.client(admin) as client:
        assert client.get(f"status/{status['id']}/").status_code == 200
    with hub.client(submitter) as client:
        assert client.get("status/no-such-status/").status_code == 404


def test_same_version_twice_is_one_record_and_two_successes(hub: Hub) -> None:
    collection = hub.collection()
    obj = indicator()
    with hub.client(hub.member()) as client:
        first = post(client, collection, obj)
        second = post(client, collection, obj, obj)
        manifest = client.get(f"collections/{collection}/manifest/?match[version]=all").json()
    assert first["success_count"] == 1
    assert second["success_count"] == 2 and second["failure_count"] == 0
    assert len(manifest["objects"]) == 1


def _versions(obj_id: str, count: int) -> list[dict]:
    return [
        indicator(object_id=obj_id, created=stamp(0), modified=stamp(i), name=f"v{i}")
        for i in range(count)
    ]


def test_version_filters(hub: Hub) -> None:
    collection = hub.collection()
    obj_id = "indicator--11111111-2222-4333-8444-555555555555"
    v0, v1, v2 = _versions(obj_id, 3)
    with hub.client(hub.member()) as client:
        post(client, collection, v1)
        post(client, collection, v0, v2)

        def names(query: str) -> list[str]:
            body = client.get(f"collections/{collection}/objects/?{query}").json()
            return sorted(o["name"] for o in body.get("objects", []))

        assert names("") == ["v2"]
        assert names("match[version]=last") == ["v2"]
        assert names("match[version]=first") == ["v0"]
        assert names("match[version]=all") == ["v0", "v1", "v2"]
        assert names("match[version]=first,last") == ["v0", "v2"]
        assert names(f"match[version]={stamp(1)}") == ["v1"]
        assert names(f"match[version]=first,{stamp(1)}") == ["v0", "v1"]
        versions = client.get(f"collections/{collection}/objects/{obj_id}/versions/").json()
    assert versions["versions"] == [stamp(1), stamp(0), stamp(2)], "ordered by date added"


def test_match_id_and_type_or_within_and_across(hub: Hub) -> None:
    collection = hub.collection()
    a, b = indicator(), indicator()
    ident = {
        "type": "identity",
        "spec_version": "2.1",
        "id": "identity--f431f809-377b-45e0-aa1c-6a4751cae5ff",
        "created": stamp(),
        "modified": stamp(),
        "name": "City of Northport",
        "identity_class": "organization",
    }
    with hub.client(hub.member()) as client:
        post(client, collection, a, b, ident)

        def ids(query: str) -> set[str]:
            body = client.get(f"collections/{collection}/objects/?{query}").json()
            return {o["id"] for o in body.get("objects", [])}

        assert ids(f"match[id]={a['id']}") == {a["id"]}
        assert ids(f"match[id]={a['id']},{ident['id']}") == {a["id"], ident["id"]}
        assert ids("match[type]=identity") == {ident["id"]}
        assert ids("match[type]=indicator,identity") == {a["id"], b["id"], ident["id"]}
        assert ids(f"match[type]=identity&match[id]={a['id']}") == set()
        assert ids(f"match[type]=indicator&match[id]={a['id']},{ident['id']}") == {a["id"]}
        assert ids("match[spec_version]=2.1") == {a["id"], b["id"], ident["id"]}
        assert ids("match[spec_version]=2.0") == set()


def test_pagination_never_skips_or_repeats_and_headers_describe_page(hub: Hub) -> None:
    collection = hub.collection()
    objects = [indicator() for _ in range(23)]
    with hub.client(hub.member()) as client:
        for start in range(0, 23, 5):
            post(client, collection, *objects[start : start + 5])
        seen: list[str] = []
        query = "limit=4"
        pages = 0
        while True:
            response = client.get(f"collections/{collection}/objects/?{query}")
            body = response.json()
            page_ids = [o["id"] for o in body.get("objects", [])]
            seen += page_ids
            pages += 1
            first = response.headers["X-TAXII-Date-Added-First"]
            last = response.headers["X-TAXII-Date-Added-Last"]
            assert parse_timestamp(first) <= parse_timestamp(last)
            if not body["more"]:
                assert "next" not in body
                break
            assert len(page_ids) == 4
            query = f"limit=4&next={body['next']}"
        assert seen == [o["id"] for o in objects]
        assert pages == 6
        # added_after with the last header value continues where the page ended.
        response = client.get(f"collections/{collection}/objects/?limit=10")
        after = response.headers["X-TAXII-Date-Added-Last"]
        rest = client.get(f"collections/{collection}/objects/?added_after={after}").json()
        assert [o["id"] for o in rest["objects"]] == [o["id"] for o in objects[10:]]
        empty = client.get(f"collections/{collection}/objects/?added_after=2999-01-01T00:00:00Z")
        assert empty.status_code == 200
        assert empty.json() == {"more": False}
        assert "X-TAXII-Date-Added-First" not in empty.headers
        assert "X-TAXII-Date-Added-Last" not in empty.headers


def test_limit_is_capped_by_server_maximum(hub: Hub) -> None:
    collection = hub.collection()
    with hub.client(hub.member()) as client:
        post(client, collection, *[indicator() for _ in range(hub.settings.max_page_size + 3)])
        body = client.get(f"collections/{collection}/objects/?limit=100000").json()
    assert len(body["objects"]) == hub.settings.max_page_size
    assert body["more"] is True


def test_next_token_is_bound_to_its_filters(hub: Hub) -> None:
    collection = hub.collection()
    with hub.client(hub.member()) as client:
        post(client, collection, *[indicator() for _ in range(3)])
        body = client.get(f"collections/{collection}/objects/?limit=1").json()
        reused = client.get(
            f"collections/{collection}/objects/?limit=1&match[type]=identity&next={body['next']}"
        )
        changed_limit = client.get(f"collections/{collection}/objects/?limit=2&next={body['next']}")
    assert reused.status_code == 400
    assert "next" in reused.json()["description"]
    assert changed_limit.status_code == 200, "page size may change between pages"


def test_manifest(hub: Hub) -> None:
    collection = hub.collection()
    obj_id = "indicator--21111111-2222-4333-8444-555555555555"
    versions = _versions(obj_id, 2)
    other = indicator()
    with hub.client(hub.member()) as client:
        post(client, collection, *versions, other)
        response = client.get(f"collections/{collection}/manifest/?match[version]=all")
        latest = client.get(f"collections/{collection}/manifest/").json()
        paged = client.get(f"collections/{collection}/manifest/?match[version]=all&limit=2").json()
    body = response.json()
    assert response.headers["X-TAXII-Date-Added-First"]
    entries = body["objects"]
    assert [(e["id"], e["version"]) for e in entries] == [
        (obj_id, stamp(0)),
        (obj_id, stamp(1)),
        (other["id"], other["modified"]),
    ]
    assert all(e["media_type"] == "application/stix+json;version=2.1" for e in entries)
    assert all(parse_timestamp(e["date_added"]) for e in entries)
    assert {(e["id"], e["version"]) for e in latest["objects"]} == {
        (obj_id, stamp(1)),
        (other["id"], other["modified"]),
    }
    assert paged["more"] is True and len(paged["objects"]) == 2


def test_object_by_id(hub: Hub) -> None:
    collection = hub.collection()
    obj_id = "indicator--31111111-2222-4333-8444-555555555555"
    versions = _versions(obj_id, 3)
    with hub.client(hub.member()) as client:
        post(client, collection, *versions)
        latest = client.get(f"collections/{collection}/objects/{obj_id}/").json()
        every = client.get(f"collections/{collection}/objects/{obj_id}/?match[version]=all").json()
        missing = client.get(
            f"collections/{collection}/objects/indicator--41111111-2222-4333-8444-555555555555/"
        )
        none_match = client.get(
            f"collections/{collection}/objects/{obj_id}/?match[version]=2000-01-01T00:00:00Z"
        )
        missing_versions = client.get(
            f"collections/{collection}/objects/indicator--41111111-2222-4333-8444-555555555555/versions/"
        )
    assert [o["name"] for o in latest["objects"]] == ["v2"]
    assert [o["name"] for o in every["objects"]] == ["v0", "v1", "v2"]
    assert missing.status_code == 404
    assert missing.json()["title"] == "Object not found"
    assert none_match.status_code == 200 and none_match.json() == {"more": False}
    assert missing_versions.status_code == 404


def test_delete_object_admin_only_and_flags_recomputed(hub: Hub) -> None:
    collection = hub.collection()
    obj_id = "indicator--51111111-2222-4333-8444-555555555555"
    versions = _versions(obj_id, 3)
    member, admin = hub.member(), hub.member(role="admin")
    with hub.client(member) as client:
        post(client, collection, *versions)
        assert client.delete(f"collections/{collection}/objects/{obj_id}/").status_code == 403
    with hub.client(admin) as client:
        response = client.delete(
            f"collections/{collection}/objects/{obj_id}/?match[version]={stamp(2)}"
        )
        assert response.status_code == 200
        latest = client.get(f"collections/{collection}/objects/{obj_id}/").json()
        assert [o["name"] for o in latest["objects"]] == ["v1"], "v1 became the latest"
        assert client.delete(f"collections/{collection}/objects/{obj_id}/?match[version]=all")
        gone = client.get(f"collections/{collection}/objects/{obj_id}/")
        again = client.delete(f"collections/{collection}/objects/{obj_id}/")
    assert gone.status_code == 404
    assert again.status_code == 404


def test_scos_without_timestamps_dedupe_by_id(hub: Hub) -> None:
    collection = hub.collection()
    sco = {
        "type": "ipv4-addr",
        "id": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd",
        "value": "198.51.100.3",
    }
    with hub.client(hub.member()) as client:
        first = post(client, collection, sco)
        second = post(client, collection, sco)
        body = client.get(f"collections/{collection}/objects/?match[version]=all").json()
    assert first["success_count"] == 1 and second["success_count"] == 1
    assert [(o["id"], o["value"]) for o in body["objects"]] == [(sco["id"], sco["value"])]
