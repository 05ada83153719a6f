"""TAXII feeds end to end: a real medallion as the upstream TAXII 2.1 server (1,000
objects sharing one date_added, pulled 7 a page, with an exclusive or an inclusive
``added_after``), a member's own server whose objects must carry the member's signature,
and a second real cityshield hub whose network collection is pulled and checked against
its JWKS."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import func, select, text

from cityshield.db import session_scope
from cityshield.members.service import get_member
from cityshield.stix.vocabulary import TLP2_IDS
from cityshield.store.models import StixObject
from tests.utils.feeds import corroboration, define, health, network_indicator, pull
from tests.utils.medallion import TAXII, Medallion
from tests.utils.server import Hub, TestMember, running_hub, submit
from tests.utils.stix import fresh_ipv4, indicator

SAME_DATE = "2026-12-01T00:00:00.000000Z"


@pytest.fixture
def medallion_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("UPSTREAM_USER", Medallion.user)
    monkeypatch.setenv("UPSTREAM_PASSWORD", Medallion.password)
    return {"type": "basic", "user_env": "UPSTREAM_USER", "password_env": "UPSTREAM_PASSWORD"}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def taxii_feed(name: str, upstream: Medallion, auth: dict[str, str], **options: Any) -> dict:  # type: ignore[type-arg]
    return {
        "name": name,
        "kind": "taxii21",
        "url": upstream.api_root,
        "collection": upstream.collections[0],
        "interval": "5m",
        "tlp": "clear",
        "confidence": 65,
        "auth": auth,
        **options,
    }


def stored_by(hub: Hub, principal: str) -> int:
    """How many object versions the principal has in the hub (any collection)."""
    with session_scope(hub.engine) as session:
        member = get_member(session, principal)
        assert member is not None
        return int(
            session.execute(
                select(func.count()).where(StixObject.submitter_id == member.id)  # type: ignore[arg-type]
            ).scalar_one()
        )


@pytest.mark.parametrize("inclusive", [False, True], ids=["exclusive", "inclusive"])
def test_a_thousand_objects_of_one_date_added_seven_a_page_lose_and_repeat_nothing(
    policy_hub: Hub, tmp_path: Path, medallion_env: dict[str, str], inclusive: bool
) -> None:
    upstream = Medallion(tmp_path / "medallion", inclusive_added_after=inclusive)
    objects = [
        indicator(value=fresh_ipv4(), created="2026-11-30T10:00:00.000Z") for _ in range(1000)
    ]
    others = [  # not indicators: not the network's business
        {
            "type": "malware",
            "spec_version": "2.1",
            "id": f"malware--{uuid.uuid4()}",
            "created": "2026-11-30T10:00:00.000Z",
            "modified": "2026-11-30T10:00:00.000Z",
            "name": "Mirai",
            "is_family": True,
        }
    ]
    upstream.seed(objects + others, SAME_DATE)
    name = unique("partner")
    define(tmp_path / "feeds", taxii_feed(name, upstream, medallion_env, page_size=7))
    with upstream:
        (first,) = pull(policy_hub, tmp_path / "feeds", name)
        assert first["ok"], first
        assert (first["added"], first["rejected"]) == (1000, 0)
        assert health(policy_hub, name).cursor == SAME_DATE
        (second,) = pull(policy_hub, tmp_path / "feeds", name)
        assert second["ok"] and (second["added"], second["rejected"]) == (0, 0)
        assert stored_by(policy_hub, f"feed.{name}") == 1000, "each exactly once"
        probe = httpx.get(  # the server does repeat what the cursor names, or does not
            f"{upstream.api_root}collections/{upstream.collections[0]}/objects/",
            params={"added_after": SAME_DATE, "limit": "1"},
            auth=(Medallion.user, Medallion.password),
            headers={"Accept": TAXII},
            timeout=120,
        )
        assert len(probe.json().get("objects", [])) == (1 if inclusive else 0)

        revised = {**objects[0], "modified": "2026-12-02T10:00:00.000Z", "revoked": True}
        new = indicator(value=fresh_ipv4())
        posted = httpx.post(
            f"{upstream.api_root}collections/{upstream.collections[0]}/objects/",
            content=orjson.dumps({"objects": [revised, new]}),
            auth=(Medallion.user, Medallion.password),
            headers={"Accept": TAXII, "Content-Type": TAXII},
            timeout=120,
        )
        assert posted.status_code == 202, posted.text
        (third,) = pull(policy_hub, tmp_path / "feeds", name)
    assert (third["added"], third["withdrawn"]) == (1, 1)
    assert stored_by(policy_hub, f"feed.{name}") == 1002
    status = health(policy_hub, name)
    assert status.vouched == 1000 and status.cursor != SAME_DATE
    reader = policy_hub.member()
    gone = network_indicator(policy_hub, reader, key(objects[0]))
    assert gone is not None and gone["revoked"] is True
    kept = network_indicator(policy_hub, reader, key(objects[1]))
    assert kept is not None and corroboration(kept)["feed_count"] == 1
    assert kept["object_marking_refs"] == [TLP2_IDS["green"]], "the stricter of the two TLPs"


def key(obj: dict[str, Any]) -> str:
    value = obj["pattern"].split("'")[1]
    return f"ipv4-addr:value={value}"


def test_a_members_own_server_needs_the_members_signatures(
    policy_hub: Hub, tmp_path: Path, medallion_env: dict[str, str]
) -> None:
    city, stranger = policy_hub.member(), policy_hub.member()
    mine = with_creator(indicator(value=fresh_ipv4()), city)
    forged = with_creator(indicator(value=fresh_ipv4()), city)
    upstream = Medallion(tmp_path / "medallion")
    upstream.seed(city.sign(mine) + stranger.sign(forged), SAME_DATE)
    name = unique("own")
    define(
        tmp_path / "feeds",
        taxii_feed(name, upstream, medallion_env, member=city.name),
    )
    with upstream:
        (result,) = pull(policy_hub, tmp_path / "feeds", name)
    assert (result["added"], result["rejected"]) == (1, 1)
    assert "key-of-another-member" in " ".join(result["problems"])
    with policy_hub.client(city) as client:
        stored = client.get(f"collections/submissions/objects/{mine['id']}/").json()["objects"]
    assert stored[0]["created_by_ref"] == city.identity_id, "the member's own, as it signed it"
    network = network_indicator(policy_hub, city, key(mine))
    assert network is not None and corroboration(network)["member_count"] == 1
    assert "feed_count" not in corroboration(network)


def with_creator(obj: dict[str, Any], member: TestMember) -> dict[str, Any]:
    return {**obj, "created_by_ref": member.identity_id}


@pytest.fixture
def other_hub() -> Iterator[Hub]:
    with running_hub("sqlite", None) as running:
        yield running


def test_another_hubs_network_is_pulled_and_a_bad_signature_refused(
    policy_hub: Hub, other_hub: Hub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    city, second_city, account = other_hub.member(), other_hub.member(), other_hub.member()
    ips = [fresh_ipv4() for _ in range(3)]
    submit(other_hub, city, *(with_creator(indicator(value=ip), city) for ip in ips))
    monkeypatch.setenv("PEER_USER", account.name)
    monkeypatch.setenv("PEER_TOKEN", account.token)
    name = unique("peer")
    definition = {
        "name": name,
        "kind": "cityshield",
        "url": other_hub.api_root,
        "interval": "10m",
        "tlp": "amber",
        "confidence": 75,
        "groups": ["peers"],
        "auth": {"type": "basic", "user_env": "PEER_USER", "password_env": "PEER_TOKEN"},
        "page_size": 2,
    }
    define(tmp_path, definition)
    (first,) = pull(policy_hub, tmp_path, name)
    assert first["ok"] and (first["added"], first["rejected"]) == (3, 0), first
    inside, outside = policy_hub.member(groups=["peers"]), policy_hub.member()
    copy = network_indicator(policy_hub, inside, f"ipv4-addr:value={ips[0]}")
    assert copy is not None and corroboration(copy)["feed_count"] == 1
    assert copy["object_marking_refs"] == [TLP2_IDS["amber"]]
    assert network_indicator(policy_hub, outside, f"ipv4-addr:value={ips[0]}") is None

    # the peer publishes a new version (another city corroborates), which a man in the
    # middle (or a broken disk) alters: its signature no longer holds
    submit(other_hub, second_city, with_creator(indicator(value=ips[1]), second_city))
    with session_scope(other_hub.engine) as session:
        row = session.execute(
            text(
                "SELECT ioc_id, body FROM network_view WHERE member_id = :m "
                "ORDER BY date_added_us DESC LIMIT 1"
            ),
            {"m": account.member_id},
        ).one()
        body = orjson.loads(row.body)
        body["confidence"] = 100
        session.execute(
            text("UPDATE network_view SET body = :b WHERE member_id = :m AND ioc_id = :i"),
            {"b": orjson.dumps(body).decode(), "m": account.member_id, "i": row.ioc_id},
        )
    (second,) = pull(policy_hub, tmp_path, name)
    assert second["ok"] and (second["added"], second["rejected"]) == (0, 1), second
    assert "signature refused" in second["problems"][0]
    unchanged = network_indicator(policy_hub, inside, f"ipv4-addr:value={ips[1]}")
    assert unchanged is not None and unchanged["confidence"] == 75
