"""The ``hub`` collection as members' tools read it: hub-signed member identities, the
official TLP definitions, signed extension-definitions, and stix2 resolving authors and
markings through it."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import orjson
import pytest
import stix2
import taxii2client.v21 as taxii
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from cityshield.db import session_scope
from cityshield.dedup.publish import CORROBORATION_EXTENSION_ID
from cityshield.errors import Conflict
from cityshield.hub.service import get_hub_identity
from cityshield.jsonvalue import same_json
from cityshield.signing.keys import load_public_key
from cityshield.signing.scheme import SIGNATURE_EXTENSION_ID, read_signature, verify_object
from cityshield.stix.vocabulary import OFFICIAL_DEFINITIONS, is_predefined_marking
from tests.utils.server import Hub, TestMember, submit
from tests.utils.stix import indicator, stamp

TLP_GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"


def collection(hub: Hub, member: TestMember, alias: str) -> taxii.Collection:
    """A collection found by its alias, as a member's TAXII client finds it."""
    root = taxii.ApiRoot(hub.api_root, user=member.name, password=member.token)
    return next(c for c in root.collections if c.alias == alias)


def hub_collection(hub: Hub, member: TestMember) -> taxii.Collection:
    return collection(hub, member, "hub")


def hub_objects(hub: Hub, member: TestMember) -> dict[str, dict[str, Any]]:
    """The whole ``hub`` collection (latest versions), paged as a TAXII client would."""
    objects: dict[str, dict[str, Any]] = {}
    for page in taxii.as_pages(hub_collection(hub, member).get_objects, per_request=100):
        objects.update((o["id"], o) for o in page.get("objects", []))
    return objects


def jwks_keys(hub: Hub) -> dict[str, dict[str, Any]]:
    jwks = httpx.get(f"{hub.base_url}/.well-known/jwks.json").json()
    return {jwk["kid"]: jwk for jwk in jwks["keys"]}


def public_key(jwk: dict[str, Any]) -> Ed25519PublicKey:
    return load_public_key(orjson.dumps({k: jwk[k] for k in ("kty", "crv", "x", "kid")}).decode())


def hub_identity_id(hub: Hub) -> str:
    with session_scope(hub.engine) as session:
        identity = get_hub_identity(session)
    assert identity is not None
    return str(identity["id"])


def test_a_new_member_has_a_hub_signed_identity(hub: Hub) -> None:
    city, analyst = hub.member(), hub.member(role="analyst")
    served = hub_objects(hub, city)
    keys = jwks_keys(hub)
    for member, identity_class in ((city, "organization"), (analyst, "individual")):
        identity = served[member.identity_id]
        assert identity["type"] == "identity"
        assert identity["name"] == member.name
        assert identity["identity_class"] == identity_class
        assert identity["created_by_ref"] == hub_identity_id(hub)
        assert "revoked" not in identity
        kid, _ = read_signature(identity)
        assert keys[kid]["identity"] == hub_identity_id(hub)  # the hub's key, not the member's
        verify_object(identity, public_key(keys[kid]))
    assert stix2.parse(served[city.identity_id], allow_custom=True).name == city.name


def test_every_official_tlp_definition_is_served_exactly(hub: Hub) -> None:
    served = hub_objects(hub, hub.member())
    for marking_id, official in OFFICIAL_DEFINITIONS.items():
        assert same_json(served[marking_id], official), marking_id


def test_every_signed_object_in_the_hub_collection_verifies(hub: Hub) -> None:
    hub.member()
    served = hub_objects(hub, hub.member())
    keys = jwks_keys(hub)
    signed = [obj for obj in served.values() if not is_predefined_marking(obj)]
    assert {SIGNATURE_EXTENSION_ID, CORROBORATION_EXTENSION_ID} <= {o["id"] for o in signed}
    for obj in signed:
        kid, _ = read_signature(obj)
        assert keys[kid]["identity"] == hub_identity_id(hub), obj["id"]
        verify_object(obj, public_key(keys[kid]))
        stix2.parse(obj, allow_custom=True)  # what stix2-based tools (TAXII sources) do


def test_stix2_resolves_creator_and_marking_through_the_hub_collection(hub: Hub) -> None:
    author, reader = hub.member(), hub.member()
    original = indicator(created_by_ref=author.identity_id)
    submit(hub, author, original)
    submissions = collection(hub, reader, "submissions")
    source = stix2.CompositeDataSource()
    source.add_data_sources(
        [
            stix2.TAXIICollectionSource(submissions),
            stix2.TAXIICollectionSource(hub_collection(hub, reader)),
        ]
    )
    environment = stix2.Environment(source=source)
    fetched = environment.get(original["id"])
    creator = environment.creator_of(fetched)
    assert creator is not None
    assert creator.id == author.identity_id and creator.name == author.name
    marking = environment.get(TLP_GREEN)
    assert marking is not None and marking.name == "TLP:GREEN"


def test_a_removed_member_identity_is_revoked_and_its_name_kept(hub: Hub) -> None:
    from cityshield.flows.members import add_member, remove_member

    leaver, reader = hub.member(), hub.member()
    with session_scope(hub.engine) as session:
        remove_member(session, home=hub.settings.home, name=leaver.name)
    revoked = hub_objects(hub, reader)[leaver.identity_id]
    assert revoked["revoked"] is True and revoked["name"] == leaver.name
    assert revoked["modified"] > revoked["created"]
    kid, _ = read_signature(revoked)
    verify_object(revoked, public_key(jwks_keys(hub)[kid]))
    with pytest.raises(Conflict, match="revoked"), session_scope(hub.engine) as session:
        add_member(session, home=hub.settings.home, name=leaver.name)
    # Nor may another member take the former member's identity id.
    fake = {
        "type": "identity",
        "spec_version": "2.1",
        "id": leaver.identity_id,
        "created": stamp(),
        "modified": stamp(),
        "name": leaver.name,
        "identity_class": "organization",
    }
    status = submit(hub, reader, fake, clean=False)
    assert "reserved-hub-object" in status["failures"][0]["message"]


def test_members_may_publish_their_own_extension_definitions_but_not_the_hubs(hub: Hub) -> None:
    member = hub.member()

    def definition(object_id: str) -> dict[str, Any]:
        return {
            "type": "extension-definition",
            "spec_version": "2.1",
            "id": object_id,
            "created_by_ref": member.identity_id,
            "created": stamp(),
            "modified": stamp(),
            "name": "a city's extension",
            "schema": "https://city.example/schema.json",
            "version": "1.0.0",
            "extension_types": ["property-extension"],
        }

    own = definition(f"extension-definition--{uuid.uuid4()}")
    shadows = [definition(SIGNATURE_EXTENSION_ID), definition(CORROBORATION_EXTENSION_ID)]
    status = submit(hub, member, own, *shadows, clean=False)
    assert [s["id"] for s in status["successes"]] == [own["id"]]
    reasons = {f["id"]: f["message"] for f in status["failures"]}
    assert set(reasons) == {SIGNATURE_EXTENSION_ID, CORROBORATION_EXTENSION_ID}
    assert all("reserved-hub-object" in reason for reason in reasons.values())
