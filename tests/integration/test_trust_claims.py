"""A hostile member against the ingest path: it may not take over another member's object
ids, shadow identities or standard markings, or slip an unknown marking past the policy."""

from __future__ import annotations

import uuid

import orjson

from cityshield.db import session_scope
from cityshield.hub.service import get_hub_identity
from cityshield.stix.vocabulary import OFFICIAL_DEFINITIONS, TLP2
from tests.utils.server import Hub, TestMember, submit
from tests.utils.stix import fresh_ipv4, indicator, stamp, tlp_green_definition

RED = next(marking_id for marking_id, level in TLP2.items() if level == "red")


def failures(status: dict) -> dict[str, str]:
    return {f["id"]: f["message"] for f in status["failures"]}


def get_versions(hub: Hub, member: TestMember, object_id: str) -> list[dict]:
    with hub.client(member) as client:
        response = client.get(
            f"collections/submissions/objects/{object_id}/", params={"match[version]": "all"}
        )
    assert response.status_code == 200, response.text
    return response.json().get("objects", [])


def blocklist(hub: Hub, member: TestMember) -> set[str]:
    with hub.client(member) as client:
        response = client.get(f"{hub.base_url}/export/blocklist?type=ipv4-addr&format=txt")
    assert response.status_code == 200, response.text
    return set(response.text.split())


def test_another_member_cannot_version_an_object(hub: Hub) -> None:
    owner, thief, reader = hub.member(), hub.member(), hub.member()
    ip = fresh_ipv4()
    original = indicator(value=ip, created_by_ref=owner.identity_id)
    submit(hub, owner, original)
    takeover = dict(
        original,
        modified=stamp(minute=30),
        created_by_ref=thief.identity_id,
        revoked=True,
        name="not revoked by its author",
    )
    status = submit(hub, thief, takeover, clean=False)
    reason = failures(status)[original["id"]]
    assert "not-the-submitter" in reason
    assert owner.name not in reason and owner.identity_id not in reason
    # Everyone, the owner included, still reads the owner's object, and its IOC stays blocked.
    for member in (owner, reader):
        assert [v["modified"] for v in get_versions(hub, member, original["id"])] == [
            original["modified"]
        ]
        assert ip in blocklist(hub, member)
    # The owner may still version it.
    submit(hub, owner, dict(original, modified=stamp(minute=31), confidence=90))
    assert [v.get("confidence") for v in get_versions(hub, reader, original["id"])] == [
        None,
        90,
    ]


def test_same_version_with_other_content_is_refused_identical_is_idempotent(hub: Hub) -> None:
    owner = hub.member()
    original = indicator(created_by_ref=owner.identity_id)
    submit(hub, owner, original)
    again = submit(hub, owner, original)
    assert [s["id"] for s in again["successes"]] == [original["id"]]
    status = submit(hub, owner, dict(original, name="same version, new words"), clean=False)
    assert "version-conflict" in failures(status)[original["id"]]
    assert [v["name"] for v in get_versions(hub, owner, original["id"])] == [original["name"]]


def test_a_new_version_keeps_its_creator(hub: Hub) -> None:
    owner = hub.member()
    original = indicator(created_by_ref=owner.identity_id)
    submit(hub, owner, original)
    anonymous_author = {k: v for k, v in original.items() if k != "created_by_ref"}
    status = submit(hub, owner, dict(anonymous_author, modified=stamp(minute=40)), clean=False)
    assert "creator-changed" in failures(status)[original["id"]]


def test_two_versions_in_one_envelope_that_differ_are_refused(hub: Hub) -> None:
    owner = hub.member()
    first = indicator(created_by_ref=owner.identity_id)
    status = submit(hub, owner, first, dict(first, name="twin"), clean=False)
    assert len(status["successes"]) == 1
    assert "version-conflict" in failures(status)[first["id"]]


def identity(object_id: str, name: str) -> dict:
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": object_id,
        "created": stamp(),
        "modified": stamp(),
        "name": name,
        "identity_class": "organization",
    }


def test_member_and_hub_identities_cannot_be_claimed(hub: Hub) -> None:
    victim, spoofer = hub.member(), hub.member()
    with session_scope(hub.engine) as session:
        hub_identity = get_hub_identity(session)
    assert hub_identity is not None
    fake_member = identity(victim.identity_id, "victim city (fake)")
    fake_hub = identity(hub_identity["id"], "the hub (fake)")
    own = identity(spoofer.identity_id, "spoofer city")
    status = submit(hub, spoofer, fake_member, fake_hub, own, clean=False)
    reasons = failures(status)
    for obj in (fake_member, fake_hub, own):
        assert "reserved-identity" in reasons[obj["id"]], reasons
    assert victim.name not in reasons[fake_member["id"]]


def test_standard_markings_are_official_or_refused(hub: Hub) -> None:
    member, reader = hub.member(), hub.member()
    rewritten = {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": RED,
        "created": "2022-10-01T00:00:00.000Z",
        "name": "TLP:RED",
        "definition_type": "statement",
        "definition": {"statement": "Anyone may share this freely"},
    }
    official = tlp_green_definition()
    v1_official = OFFICIAL_DEFINITIONS["marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"]
    status = submit(hub, member, rewritten, official, v1_official, sign=False, clean=False)
    assert "altered-standard-marking" in failures(status)[RED]
    assert {s["id"] for s in status["successes"]} == {official["id"], v1_official["id"]}
    # Accepted as a no-op: nothing of the member's is stored or served under a TLP id.
    with hub.client(reader) as client:
        for marking_id in (RED, official["id"]):
            response = client.get(f"collections/submissions/objects/{marking_id}/")
            assert response.status_code == 404, response.text


def test_unknown_marking_references_are_refused(hub: Hub) -> None:
    member = hub.member()
    typo = f"marking-definition--{uuid.uuid4()}"
    statement_id = f"marking-definition--{uuid.uuid4()}"
    statement = {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": statement_id,
        "created": stamp(),
        "definition_type": "statement",
        "definition": {"statement": "Only for the north region's water utilities"},
    }
    mistyped = indicator(object_marking_refs=[typo])
    granular = indicator(granular_markings=[{"marking_ref": typo, "selectors": ["name"]}])
    with_statement = indicator(object_marking_refs=[statement_id])
    status = submit(hub, member, mistyped, granular, statement, with_statement, clean=False)
    reasons = failures(status)
    assert set(reasons) == {mistyped["id"], granular["id"]}, reasons
    assert typo in reasons[mistyped["id"]] and "unknown-marking" in reasons[mistyped["id"]]
    # Once stored, the custom marking may be referenced by later envelopes too.
    later = indicator(object_marking_refs=[statement_id])
    assert submit(hub, member, later)["success_count"] == 1


def test_ownership_survives_a_resubmitted_envelope(hub: Hub) -> None:
    """A retried POST of the same envelope is a success for every object, not a failure."""
    owner = hub.member()
    objects = [indicator(created_by_ref=owner.identity_id) for _ in range(3)]
    first = submit(hub, owner, *objects)
    second = submit(hub, owner, *objects)
    assert orjson.dumps(sorted(s["id"] for s in first["successes"])) == orjson.dumps(
        sorted(s["id"] for s in second["successes"])
    )


def test_an_admin_deleting_a_network_indicator_takes_it_out_of_every_blocklist(hub: Hub) -> None:
    reporter, reader, admin = hub.member(), hub.member(), hub.member(role="admin")
    ip = fresh_ipv4()
    submit(hub, reporter, indicator(value=ip))
    assert ip in blocklist(hub, reader)
    with hub.client(reader) as client:
        objects = client.get("collections/network/objects/", params={"limit": 10000}).json()
    [view] = [o for o in objects["objects"] if ip in o["pattern"]]
    with hub.client(reader) as client:
        assert client.delete(f"collections/network/objects/{view['id']}/").status_code == 403
    with hub.client(admin) as client:
        response = client.delete(f"collections/network/objects/{view['id']}/")
    assert response.status_code == 200, response.text
    hub.publish_network()
    for member in (reporter, reader, admin):
        assert ip not in blocklist(hub, member)
    with hub.client(reader) as client:
        latest = client.get(f"collections/network/objects/{view['id']}/").json()["objects"]
    ext = next(iter(latest[-1]["extensions"].values()))
    assert ext["benign_reason"] == "withdrawn by a hub admin"
    assert latest[-1]["modified"] > view["modified"]
    # A later report of the same IOC does not put it back on the block lists.
    submit(hub, hub.member(), indicator(value=ip))
    assert ip not in blocklist(hub, reader)
