"""Interop with real TAXII clients: taxii2-client and stix2.TAXIICollectionSource."""

from __future__ import annotations

import json

import stix2
import taxii2client.v21 as taxii

from tests.utils.server import Hub
from tests.utils.stix import envelope, fresh_ipv4, indicator


def test_taxii2client_discovers_adds_and_pages(hub: Hub) -> None:
    member = hub.member()
    server = taxii.Server(f"{hub.base_url}/taxii2/", user=member.name, password=member.token)
    assert server.default.url == hub.api_root
    api_root = server.default
    submissions = next(c for c in api_root.collections if c.alias == "submissions")
    assert submissions.can_write and submissions.can_read
    collection_id = hub.collection()
    collection = taxii.Collection(
        f"{hub.api_root}collections/{collection_id}/", user=member.name, password=member.token
    )
    objects = member.sign(*[indicator() for _ in range(25)])
    status = collection.add_objects(envelope(*objects))
    assert status.status == "complete"
    assert status.success_count == 25 and status.failure_count == 0
    fetched: list[str] = []
    for page in taxii.as_pages(collection.get_objects, per_request=10):
        fetched += [o["id"] for o in page.get("objects", [])]
    assert fetched == [o["id"] for o in objects]
    manifest_ids = [
        e["id"]
        for page in taxii.as_pages(collection.get_manifest, per_request=7)
        for e in page.get("objects", [])
    ]
    assert manifest_ids == fetched
    one = collection.get_object(objects[3]["id"])
    assert one["objects"] == [objects[3]]
    versions = collection.object_versions(objects[3]["id"])
    assert versions["versions"] == [objects[3]["modified"]]
    refreshed = api_root.get_status(status.id)
    assert refreshed is None or refreshed.success_count == 25


def test_taxii2client_sees_per_object_failures(hub: Hub) -> None:
    member = hub.member()
    collection = taxii.Collection(
        f"{hub.api_root}collections/{hub.collection()}/", user=member.name, password=member.token
    )
    bad = indicator(pattern="[not a pattern")
    status = collection.add_objects(member.signed_envelope(indicator(), bad))
    assert status.success_count == 1
    assert status.failure_count == 1
    assert status.failures[0]["id"] == bad["id"]
    assert status.failures[0]["message"]


def test_stix2_taxii_collection_source_queries(hub: Hub) -> None:
    member = hub.member()
    collection_id = hub.collection()
    url = f"{hub.api_root}collections/{collection_id}/"
    collection = taxii.Collection(url, user=member.name, password=member.token)
    wanted = indicator(value="203.0.113.99")
    collection.add_objects(member.signed_envelope(indicator(), wanted, indicator()))
    source = stix2.TAXIICollectionSource(collection)
    got = source.get(wanted["id"])
    assert got is not None and got.id == wanted["id"]
    found = source.query([stix2.Filter("type", "=", "indicator")])
    assert {o.id for o in found} >= {wanted["id"]}
    assert len(found) == 3


def test_stix2_sink_rewrites_signed_objects_and_the_status_says_why(hub: Hub) -> None:
    """``TAXIICollectionSink.add()`` re-serialises what it is given (even a dict) and drops
    the status, so a signed object fails silently; posting the same bundle with
    taxii2-client shows the refusal, whose reason must name re-serialisation. A signed dict
    posted as is (docs/signing.md) is accepted."""
    member = hub.member()
    url = f"{hub.api_root}collections/{hub.collection()}/"
    collection = taxii.Collection(url, user=member.name, password=member.token)
    [signed] = member.sign(indicator(valid_from="2026-11-20T09:00:00.000Z"))
    assert stix2.TAXIICollectionSink(collection).add(signed) is None
    assert collection.get_objects().get("objects", []) == []
    status = collection.add_objects(stix2.v21.Bundle(signed).serialize())
    assert status.failure_count == 1
    message = status.failures[0]["message"]
    assert "content differs from what was signed" in message and "stix2" in message
    assert message.endswith("(reason: signature-invalid)")
    assert collection.add_objects(envelope(signed)).success_count == 1
    # The recipe in docs/signing.md: build with stix2, sign its final JSON, post the dict.
    built = stix2.Indicator(
        pattern=f"[ipv4-addr:value = '{fresh_ipv4()}']",
        pattern_type="stix",
        created_by_ref=member.identity_id,
    )
    [final] = member.sign(json.loads(built.serialize()))
    status = collection.add_objects({"objects": [final]})
    assert status.success_count == 1, status.failures
