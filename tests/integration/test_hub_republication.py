"""``ensure_hub`` on a database an older hub wrote (unsigned extension-definitions, members
without identities, no TLP definitions): one run brings the ``hub`` collection up to date
without rewriting a stored version, and later runs write nothing."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from sqlalchemy import Engine, func, select

from cityshield.db import make_engine, session_scope
from cityshield.dedup.publish import CORROBORATION_EXTENSION_ID, corroboration_extension_definition
from cityshield.hub.service import BUILTIN_COLLECTIONS, ensure_hub, hub_signer
from cityshield.members.caller import ROLES
from cityshield.members.service import create_member, identity_id_for
from cityshield.migrate import upgrade
from cityshield.signing.definition import extension_definition
from cityshield.signing.jwk import kid_for
from cityshield.signing.scheme import SIGNATURE_EXTENSION_ID, sign_object, verify_object
from cityshield.stix.vocabulary import OFFICIAL_DEFINITIONS
from cityshield.store.collections import (
    HUB_ALIAS,
    collection_id_for,
    ensure_collection,
    get_collection_by_alias,
)
from cityshield.store.models import HubSetting, StixObject
from cityshield.store.writer import write_hub_objects
from tests.conftest import BACKENDS, database_url

CREATED = "2026-01-05T08:00:00.000Z"


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    url = database_url(request.param, request) or f"sqlite:///{tmp_path / 'hub.db'}"
    engine = make_engine(url)
    upgrade(engine)
    yield engine
    engine.dispose()


def write_as_an_older_hub(engine: Engine, home: Path) -> dict:
    """What ``ensure_hub`` stored before members' identities, TLP definitions and signed
    extension-definitions were published, plus a member added then."""
    identity = {
        "type": "identity",
        "spec_version": "2.1",
        "id": f"identity--{uuid.uuid4()}",
        "created": CREATED,
        "modified": CREATED,
        "name": "old hub",
        "identity_class": "organization",
    }
    with session_scope(engine) as session:
        session.add(HubSetting(key="identity", value=orjson.dumps(identity).decode()))
        for alias, title, description, write_roles in BUILTIN_COLLECTIONS:
            ensure_collection(
                session,
                alias=alias,
                title=title,
                description=description,
                read_roles=list(ROLES),
                write_roles=write_roles,
            )
        key = hub_signer(session, home)
        write_hub_objects(
            session,
            collection=get_collection_by_alias(session, HUB_ALIAS),
            objects=[
                sign_object(identity, key),
                extension_definition(identity["id"], CREATED),
                corroboration_extension_definition(identity["id"], CREATED),
            ],
            kid=kid_for(key.public_key()),
        )
        create_member(session, name="oldtown")
    return identity


def versions(engine: Engine) -> dict[str, list[dict]]:
    with session_scope(engine) as session:
        rows = session.execute(
            select(StixObject.object_id, StixObject.body)
            .where(StixObject.collection_id == collection_id_for(HUB_ALIAS))
            .order_by(StixObject.version_us)
        ).all()
    found: dict[str, list[dict]] = {}
    for object_id, body in rows:
        found.setdefault(object_id, []).append(orjson.loads(body))
    return found


def row_count(engine: Engine) -> int:
    with session_scope(engine) as session:
        return int(session.execute(select(func.count()).select_from(StixObject)).scalar_one())


def test_ensure_hub_brings_an_older_database_up_to_date_once(
    engine: Engine, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    identity = write_as_an_older_hub(engine, home)
    with session_scope(engine) as session:
        ensure_hub(session, home=home, name="ignored")
        public = hub_signer(session, home).public_key()
    stored = versions(engine)
    for definition_id in (SIGNATURE_EXTENSION_ID, CORROBORATION_EXTENSION_ID):
        old, new = stored[definition_id]  # the unsigned version stays, a signed one follows
        assert "x_cityshield_signature" not in old
        assert new["modified"] > old["modified"] and new["created"] == old["created"]
        verify_object(new, public)
    assert len(stored[identity["id"]]) == 1
    [member_identity] = stored[identity_id_for("oldtown")]
    assert member_identity["name"] == "oldtown"
    verify_object(member_identity, public)
    for marking_id, official in OFFICIAL_DEFINITIONS.items():
        assert stored[marking_id] == [official]
    rows = row_count(engine)
    with session_scope(engine) as session:
        ensure_hub(session, home=home, name="ignored")
    assert row_count(engine) == rows
    assert versions(engine) == stored
