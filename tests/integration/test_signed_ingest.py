"""Signed submissions end to end: every reason an object's signature is refused, rotation,
revocation, compromised-key quarantine and its release, and the published keys."""

from __future__ import annotations

import httpx
import orjson
import taxii2client.v21 as taxii

from cityshield.db import session_scope
from cityshield.dedup.publish import CORROBORATION_EXTENSION_ID
from cityshield.signing.jwk import kid_for
from cityshield.signing.keys import generate_private_key, load_public_key
from cityshield.signing.registry import lift_quarantine, register_key, revoke_key
from cityshield.signing.scheme import SIGNATURE_EXTENSION_ID, sign_object, verify_object
from cityshield.stix.vocabulary import TLP2
from cityshield.timefmt import now_micros
from tests.utils.server import TAXII, Hub, TestMember, submit
from tests.utils.stix import envelope, indicator, tlp_green_definition

HEADERS = {"Content-Type": TAXII}
HOUR_US = 3600 * 1_000_000


def post_raw(hub: Hub, member: TestMember, collection: str, *objects: dict) -> dict:
    """POST objects exactly as given (no automatic signing)."""
    return submit(hub, member, *objects, collection=collection, sign=False, clean=False)


def failure_reasons(status: dict) -> dict[str, str]:
    return {f["id"]: f["message"] for f in status["failures"]}


def add_key(hub: Hub, member: TestMember, **validity: int | None):  # type: ignore[no-untyped-def]
    key = generate_private_key()
    with session_scope(hub.engine) as session:
        register_key(session, public_key=key.public_key(), member_id=member.member_id, **validity)
    return key


def test_each_refusal_has_its_precise_reason(hub: Hub) -> None:
    member, other = hub.member(), hub.member()
    collection = hub.collection()
    unregistered = generate_private_key()
    expired = add_key(
        hub, member, not_before_us=now_micros() - 2 * HOUR_US, not_after_us=now_micros() - HOUR_US
    )
    future = add_key(hub, member, not_before_us=now_micros() + HOUR_US)
    revoked = add_key(hub, member)
    with session_scope(hub.engine) as session:
        revoke_key(session, kid=kid_for(revoked.public_key()))

    good = member.sign(indicator())[0]
    own_creator = member.sign(indicator(created_by_ref=member.identity_id))[0]
    unsigned = indicator()
    tampered = dict(member.sign(indicator())[0], name="changed after signing")
    unknown = sign_object(indicator(), unregistered)
    others = other.sign(indicator())[0]
    creator = member.sign(indicator(created_by_ref=other.identity_id))[0]
    by_expired = sign_object(indicator(), expired)
    by_future = sign_object(indicator(), future)
    by_revoked = sign_object(indicator(), revoked)
    malformed = dict(
        indicator(),
        extensions={
            SIGNATURE_EXTENSION_ID: {
                "extension_type": "property-extension",
                "alg": "RS256",
                "kid": "x",
                "sig": "y",
            }
        },
    )
    tlp = tlp_green_definition()
    assert tlp["id"] in TLP2
    custom_marking = {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": "marking-definition--0b1a0c2e-3f4d-4e5f-8a6b-7c8d9e0f1a2b",
        "created": "2026-11-20T09:00:00.000Z",
        "definition_type": "statement",
        "definition": {"statement": "Northport only"},
    }
    status = post_raw(
        hub,
        member,
        collection,
        good,
        own_creator,
        unsigned,
        tampered,
        unknown,
        others,
        creator,
        by_expired,
        by_future,
        by_revoked,
        malformed,
        tlp,
        custom_marking,
    )
    reasons = failure_reasons(status)
    assert {s["id"] for s in status["successes"]} == {good["id"], own_creator["id"], tlp["id"]}
    expected = {
        unsigned["id"]: "missing-signature",
        tampered["id"]: "signature-invalid",
        unknown["id"]: "unknown-kid",
        others["id"]: "key-of-another-member",
        creator["id"]: "created-by-ref-mismatch",
        by_expired["id"]: "key-expired",
        by_future["id"]: "key-not-yet-valid",
        by_revoked["id"]: "key-revoked",
        malformed["id"]: "malformed-signature",
        custom_marking["id"]: "missing-signature",
    }
    for object_id, reason in expected.items():
        assert reason in reasons[object_id], (reason, reasons[object_id])
    assert len(reasons) == len(expected)


def test_served_objects_verify_with_the_published_key(hub: Hub) -> None:
    member = hub.member()
    collection = hub.collection()
    signed = member.sign(indicator(created_by_ref=member.identity_id))[0]
    post_raw(hub, member, collection, signed)
    with hub.client(member) as client:
        served = client.get(f"collections/{collection}/objects/{signed['id']}/").json()["objects"][
            0
        ]
    jwks = httpx.get(f"{hub.base_url}/.well-known/jwks.json").json()
    kid = served["extensions"][SIGNATURE_EXTENSION_ID]["kid"]
    jwk = next(k for k in jwks["keys"] if k["kid"] == kid)
    assert jwk["identity"] == member.identity_id
    assert "revoked_at" not in jwk
    verify_object(
        served,
        load_public_key(orjson.dumps({k: jwk[k] for k in ("kty", "crv", "x", "kid")}).decode()),
    )


def test_hub_publishes_its_identity_signed_and_the_extension_definition(hub: Hub) -> None:
    member = hub.member()
    with hub.client(member) as client:
        objects = client.get("collections/hub/objects/").json()["objects"]
    by_id = {o["id"]: o for o in objects}
    identity = next(o for o in objects if o["type"] == "identity")
    definition = by_id[SIGNATURE_EXTENSION_ID]
    assert definition["type"] == "extension-definition"
    assert definition["created_by_ref"] == identity["id"]
    assert by_id[CORROBORATION_EXTENSION_ID]["created_by_ref"] == identity["id"]
    jwks = httpx.get(f"{hub.base_url}/.well-known/jwks.json").json()
    hub_key = next(k for k in jwks["keys"] if k["identity"] == identity["id"])
    verify_object(
        identity,
        load_public_key(orjson.dumps({k: hub_key[k] for k in ("kty", "crv", "x", "kid")}).decode()),
    )


def test_rotation_overlap_then_revocation(hub: Hub) -> None:
    member = hub.member()
    collection = hub.collection()
    new_key = add_key(hub, member)
    both = post_raw(
        hub, member, collection, member.sign(indicator())[0], sign_object(indicator(), new_key)
    )
    assert both["success_count"] == 2
    with session_scope(hub.engine) as session:
        revoke_key(session, kid=kid_for(member.key.public_key()))
    old_signed, new_signed = member.sign(indicator())[0], sign_object(indicator(), new_key)
    after = post_raw(hub, member, collection, old_signed, new_signed)
    assert [s["id"] for s in after["successes"]] == [new_signed["id"]]
    assert "key-revoked" in failure_reasons(after)[old_signed["id"]]
    jwks = httpx.get(f"{hub.base_url}/.well-known/jwks.json").json()
    old = next(k for k in jwks["keys"] if k["kid"] == kid_for(member.key.public_key()))
    assert old["revoked_at"] > 0


def test_compromised_key_quarantines_objects_received_since_and_release(hub: Hub) -> None:
    member = hub.member()
    collection = hub.collection()
    before = member.sign(indicator())[0]
    post_raw(hub, member, collection, before)
    since = now_micros()
    after_a, after_b = member.sign(indicator(), indicator())
    post_raw(hub, member, collection, after_a, after_b)
    kid = kid_for(member.key.public_key())
    reader = hub.member()

    def visible() -> dict[str, set[str]]:
        with hub.client(reader) as client:
            objects = client.get(f"collections/{collection}/objects/").json().get("objects", [])
            manifest = client.get(f"collections/{collection}/manifest/").json().get("objects", [])
            by_id = client.get(f"collections/{collection}/objects/{after_a['id']}/")
            versions = client.get(f"collections/{collection}/objects/{after_a['id']}/versions/")
        return {
            "objects": {o["id"] for o in objects},
            "manifest": {o["id"] for o in manifest},
            "by_id": {after_a["id"]} if by_id.status_code == 200 else set(),
            "versions": {after_a["id"]} if versions.status_code == 200 else set(),
        }

    everything = {before["id"], after_a["id"], after_b["id"]}
    assert visible()["objects"] == everything
    with session_scope(hub.engine) as session:
        revoke_key(session, kid=kid, compromised_since_us=since)
    hidden = visible()
    assert hidden["objects"] == {before["id"]}
    assert hidden["manifest"] == {before["id"]}
    assert hidden["by_id"] == set() and hidden["versions"] == set()
    with session_scope(hub.engine) as session:
        lift_quarantine(session, kid=kid)
    restored = visible()
    assert restored["objects"] == everything
    assert restored["by_id"] == {after_a["id"]}


def test_taxii2client_submission_end_to_end(hub: Hub) -> None:
    member = hub.member()
    collection = taxii.Collection(
        f"{hub.api_root}collections/{hub.collection()}/", user=member.name, password=member.token
    )
    signed = member.sign(*[indicator(created_by_ref=member.identity_id) for _ in range(5)])
    status = collection.add_objects(envelope(*signed, indicator()))
    assert status.success_count == 5 and status.failure_count == 1
    assert "missing-signature" in status.failures[0]["message"]
    served = collection.get_objects()["objects"]
    assert served == signed
