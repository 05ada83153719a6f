"""Webhooks and the crisis fast path against the real hub and worker, on both backends.

A member's webhook endpoint is a real HTTP server (``tests.utils.webhooks.Receiver``) that
checks every request with the ``standardwebhooks`` library; push targets are a real
medallion behind a ``Gate`` that records the order objects arrive in.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from cityshield.db import session_scope
from cityshield.dedup.models import NetworkView
from cityshield.dedup.publish import CORROBORATION_EXTENSION_ID
from cityshield.delivery.source import high_water
from cityshield.delivery.urgent import HONOURED, URGENT_PROPERTY, set_urgent_policy
from cityshield.delivery.webhooks import new_secret
from cityshield.members.service import caller_for, get_member
from cityshield.stix.vocabulary import TLP2
from cityshield.store.collections import get_collection_by_alias
from tests.utils.delivery import push_settings, readable, register, remove_targets, wait_for
from tests.utils.gate import Gate
from tests.utils.medallion import Medallion
from tests.utils.server import TAXII, Hub, TestMember, submit
from tests.utils.stix import fresh_ipv4, indicator, stamp
from tests.utils.webhooks import Receiver, register_hook, webhook_of, webhook_receipts

MARKING = {level: marking for marking, level in TLP2.items()}


@pytest.fixture
def hub(policy_hub: Hub) -> Iterator[Hub]:
    """A hub of this module's own (a worker delivers to every target in it); no target
    outlives a test."""
    yield policy_hub
    remove_targets(policy_hub)


def urgent(**extra: Any) -> dict[str, Any]:
    return indicator(value=fresh_ipv4(), **{URGENT_PROPERTY: True}, **extra)


def post(hub: Hub, member: TestMember, *objects: dict[str, Any]) -> dict[str, Any]:
    """POST an envelope and publish nothing: the worker must do it."""
    with hub.client(member) as client:
        answer = client.post(
            "collections/submissions/objects/",
            content=orjson.dumps({"objects": list(objects)}),
            headers={"Content-Type": TAXII},
        )
    assert answer.status_code == 202, answer.text
    status: dict[str, Any] = answer.json()
    assert status["failure_count"] == 0, status["failures"]
    return status


def caught_up(hub: Hub, member: TestMember) -> bool:
    """Whether the member's webhook has gone past everything in its network view."""
    target = webhook_of(hub, member)
    with session_scope(hub.engine) as session:
        found = get_member(session, member.name)
        assert found is not None
        top = high_water(
            session,
            caller=caller_for(session, found),
            collection=get_collection_by_alias(session, "network"),
        )
    return target.cursor_us >= top


def urgent_view(hub: Hub, member: TestMember, pattern: str) -> bool:
    """Whether the member's view of this IOC is published, and urgent."""
    with session_scope(hub.engine) as session:
        urgent = session.execute(
            select(NetworkView.urgent).where(
                NetworkView.member_id == member.member_id,
                NetworkView.body.contains(pattern.split("'")[1]),
            )
        ).scalar_one_or_none()
    return bool(urgent)


def network_objects(hub: Hub, member: TestMember) -> list[dict[str, Any]]:
    with hub.client(member) as client:
        answer = client.get("collections/network/objects/", params={"limit": "500"})
    assert answer.status_code == 200, answer.text
    objects: list[dict[str, Any]] = answer.json().get("objects", [])
    return objects


def test_every_notification_verifies_and_a_tampered_one_does_not(hub: Hub) -> None:
    reader, author = hub.member(), hub.member()
    first = indicator(value=fresh_ipv4())
    with Receiver() as receiver:
        register_hook(hub, reader, receiver)
        submit(hub, author, first)
        with hub.worker(push_settings(hub)):
            wait_for(lambda: receiver.received, "the first notification")
            submit(hub, author, {**first, "modified": stamp(second=30), "revoked": True})
            wait_for(lambda: len(receiver.received) >= 2, "the revocation")
    assert receiver.refused == [], "a notification did not verify"
    created, revoked = receiver.received
    assert [created.payload["type"], revoked.payload["type"]] == [
        "indicator.created",
        "indicator.revoked",
    ]
    assert created.payload["data"]["pattern"] == first["pattern"]
    assert created.payload["data"]["indicator"]["id"] == created.payload["data"]["indicator_id"]
    assert created.id.startswith("msg_") and created.id != revoked.id
    assert created.headers["webhook-signature"].startswith("v1,")
    assert created.headers["webhook-timestamp"].isdigit()

    signer = Webhook(receiver.secret or "")
    assert signer.verify(created.body, created.headers)["type"] == "indicator.created"
    forged_body = created.body.replace(b"indicator.created", b"indicator.updated")
    forged_id = {**created.headers, "webhook-id": revoked.id}
    later = {
        **created.headers,
        "webhook-timestamp": str(int(created.headers["webhook-timestamp"]) + 1),
    }
    for body, headers in [
        (forged_body, created.headers),
        (created.body, forged_id),
        (created.body, later),
    ]:
        with pytest.raises(WebhookVerificationError):
            signer.verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(created.body, created.headers)
    receipts = webhook_receipts(hub, reader)
    assert len(receipts) == 2 and {r.status for r in receipts} == {"delivered"}


def test_a_retried_notification_keeps_its_id_and_its_body(hub: Hub) -> None:
    reader, author = hub.member(), hub.member()
    with Receiver() as receiver:
        register_hook(hub, reader, receiver)
        receiver.failing = 2
        submit(hub, author, indicator(value=fresh_ipv4()))
        with hub.worker(push_settings(hub)):
            wait_for(lambda: receiver.received, "the notification after two failures")
    assert len(receiver.failed) == 2 and len(receiver.received) == 1
    (delivered,) = receiver.received
    assert {r.id for r in receiver.failed} == {delivered.id}, "a retry got a new webhook-id"
    assert {r.body for r in receiver.failed} == {delivered.body}
    target = webhook_of(hub, reader)
    assert target.attempts == 0 and "503" in (target.last_error or "")


def test_an_urgent_only_webhook_hears_of_urgent_indicators_and_what_follows_them(
    hub: Hub,
) -> None:
    everything, watchful, author = hub.member(), hub.member(), hub.member()
    calm, alarm = indicator(value=fresh_ipv4()), urgent()
    with Receiver() as all_hook, Receiver() as urgent_hook:
        register_hook(hub, everything, all_hook)
        register_hook(hub, watchful, urgent_hook, urgent_only=True)
        status = submit(hub, author, calm, alarm)
        messages = {s["id"]: s.get("message") for s in status["successes"]}
        assert messages == {calm["id"]: None, alarm["id"]: HONOURED}
        with hub.worker(push_settings(hub)):
            wait_for(lambda: len(all_hook.received) >= 2, "both notifications")
            wait_for(lambda: caught_up(hub, watchful), "the urgent-only webhook's cursor")
            assert urgent_hook.patterns() == [alarm["pattern"]]
            unmarked = {k: v for k, v in alarm.items() if k != URGENT_PROPERTY}
            submit(hub, author, {**unmarked, "modified": stamp(second=30), "revoked": True})
            wait_for(lambda: len(urgent_hook.received) >= 2, "the revocation of the urgent one")
    flags = {p["data"]["pattern"]: p["data"]["urgent"] for p in all_hook.payloads()[:2]}
    assert flags == {calm["pattern"]: False, alarm["pattern"]: True}
    revocation = urgent_hook.payloads()[1]
    assert revocation["type"] == "indicator.revoked" and revocation["data"]["urgent"] is False
    assert len(urgent_hook.received) == 2 and urgent_hook.refused == []


def test_a_notification_tells_only_what_its_member_may_see(hub: Hub) -> None:
    reader, friend = hub.member(groups=["north"]), hub.member(groups=["north"])
    secretive = hub.member(groups=["south"])
    ip = fresh_ipv4()
    amber = indicator(value=ip, object_marking_refs=[MARKING["amber"]], confidence=90)
    amber[URGENT_PROPERTY] = True  # counts for its author and its group, not for the reader
    green = indicator(value=ip, confidence=40)
    with Receiver() as receiver:
        register_hook(hub, reader, receiver)
        submit(hub, secretive, amber)
        submit(hub, friend, green)
        with hub.worker(push_settings(hub)):
            wait_for(lambda: receiver.received, "the notification")
            wait_for(lambda: caught_up(hub, reader), "the webhook's cursor")
    (note,) = receiver.received
    data = note.payload["data"]
    corroboration = data["corroboration"]
    assert corroboration["member_count"] == 1 and corroboration["confidence"] == 40
    assert corroboration["contributing_refs"] == [green["id"]]
    assert corroboration["contributors"] == [{"identity": friend.identity_id, "name": friend.name}]
    assert data["urgent"] is False, "an urgent report the reader may not see made it urgent"
    text = note.body.decode()
    for secret in (secretive.name, secretive.identity_id, amber["id"]):
        assert secret not in text, f"the notification names {secret}"
    with session_scope(hub.engine) as session:
        own = session.execute(
            select(NetworkView.urgent).where(
                NetworkView.member_id == secretive.member_id, NetworkView.body.contains(ip)
            )
        ).scalars()
        assert list(own) == [True], "its author's own view is urgent"


def test_urgent_marks_are_bounded_per_member_and_never_cost_the_object(hub: Hub) -> None:
    city, reader = hub.member(), hub.member()
    with session_scope(hub.engine) as session:
        set_urgent_policy(session, member_name=city.name, per_hour=2, default_per_hour=100)
    marks = [urgent() for _ in range(3)]
    status = submit(hub, city, *marks)
    assert status["success_count"] == 3
    messages = [s.get("message") or "" for s in status["successes"]]
    assert messages[:2] == [HONOURED, HONOURED]
    assert "not treated as urgent" in messages[2] and "limit of 2" in messages[2]
    flags = {
        o["pattern"]: o["extensions"][CORROBORATION_EXTENSION_ID].get("urgent", False)
        for o in network_objects(hub, reader)
    }
    assert [flags[m["pattern"]] for m in marks] == [True, True, False]

    with session_scope(hub.engine) as session:
        set_urgent_policy(session, member_name=city.name, allowed=False, default_per_hour=100)
    denied = submit(hub, city, urgent())
    assert denied["success_count"] == 1
    assert "may not mark objects urgent" in denied["successes"][0]["message"]

    forged = city.sign(indicator(value=fresh_ipv4()))[0]
    forged[URGENT_PROPERTY] = True  # added after signing, as a relay might
    refused = submit(hub, city, forged, sign=False, clean=False)
    assert refused["failure_count"] == 1
    assert "signature" in refused["failures"][0]["message"]


def test_an_urgent_indicator_overtakes_the_backlog_and_waits_for_no_interval(
    hub: Hub, tmp_path: Path
) -> None:
    network_reader, submissions_reader, author = hub.member(), hub.member(), hub.member()
    server = Medallion(tmp_path / "medallion", collections=2)
    with server, Gate(server.base_url) as network_gate, Gate(server.base_url) as submissions_gate:
        register(
            hub, network_reader, api_root=network_gate.api_root, collection=server.collections[0]
        )
        register(
            hub,
            submissions_reader,
            api_root=submissions_gate.api_root,
            collection=server.collections[1],
            view="submissions",
        )
        backlog = [indicator(value=fresh_ipv4()) for _ in range(30)]
        post(hub, author, *backlog)  # queued for publication, not published
        alarm = urgent()
        assert post(hub, author, alarm)["successes"][0]["message"] == HONOURED
        settings = push_settings(
            hub,
            delivery_batch_size=5,
            publish_interval_seconds=3600,
            delivery_interval_seconds=3600,
        )
        with hub.worker(settings):
            for member, view, gate in (
                (submissions_reader, "submissions", submissions_gate),
                (network_reader, "network", network_gate),
            ):
                wait_for(
                    lambda: readable(hub, member, view) <= set(gate.posted),  # noqa: B023
                    f"everything at the {view} target",
                )
    ids = {o["pattern"]: o["id"] for o in network_objects(hub, network_reader)}
    for gate, alarm_id, backlog_ids in (
        (submissions_gate, alarm["id"], {o["id"] for o in backlog}),
        (network_gate, ids[alarm["pattern"]], {ids[o["pattern"]] for o in backlog}),
    ):
        order = [object_id for object_id, _ in gate.posted]  # in order of arrival
        assert backlog_ids <= set(order) and max(gate.posted.values()) == 1
        first_of_backlog = min(order.index(i) for i in backlog_ids)
        assert order.index(alarm_id) < first_of_backlog, "the backlog went first"


def test_busy_threads_yield_to_a_target_with_an_urgent_item(hub: Hub, tmp_path: Path) -> None:
    """One delivery thread, held by a target with a backlog: an urgent item for another
    target is sent before that backlog is through (the busy target stops after its batch,
    and resumes after)."""
    busy, watchful, author = hub.member(), hub.member(), hub.member()
    server = Medallion(tmp_path / "medallion", collections=1)
    with server, Gate(server.base_url) as gate, Receiver() as receiver:
        register(
            hub, busy, api_root=gate.api_root, collection=server.collections[0], view="submissions"
        )
        backlog = [indicator(value=fresh_ipv4()) for _ in range(40)]
        post(hub, author, *backlog)
        settings = push_settings(hub, delivery_batch_size=2, delivery_concurrency=1)
        gate.hold_posts.set()  # the busy target's first batch waits for its answer
        with hub.worker(settings):
            wait_for(gate.forwarded.is_set, "the backlog under way")
            register_hook(hub, watchful, receiver, urgent_only=True)
            alarm = urgent()
            post(hub, author, alarm)
            wait_for(lambda: urgent_view(hub, watchful, alarm["pattern"]), "its publication")
            gate.release.set()
            wait_for(lambda: receiver.received, "the urgent notification")
            sent_before = {object_id for object_id, _ in gate.posted}
            wait_for(
                lambda: {o["id"] for o in backlog} <= {i for i, _ in gate.posted},
                "the rest of the backlog",
            )
    assert receiver.patterns() == [alarm["pattern"]]
    assert not {o["id"] for o in backlog} <= sent_before, "the urgent item waited for the backlog"
