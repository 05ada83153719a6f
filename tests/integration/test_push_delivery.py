"""Push delivery to members' own TAXII servers, each a real medallion in its own process.

A target receives exactly what its member reads over TAXII (``match[version]=all``), new
versions and revocations included, and nothing else; a receiver that was down gets what
was queued meanwhile once; a hung receiver holds up no other; a dead one is dead-lettered
after N attempts and retried by hand; policy widening and narrowing apply to what is sent;
two workers never send one object twice.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from cityshield.db import session_scope
from cityshield.delivery.job import due_targets
from cityshield.delivery.models import DeliveryTarget
from cityshield.delivery.targets import pause_target, resume_target, retry_targets
from cityshield.flows.policy import load_policy_files
from cityshield.stix.vocabulary import TLP2
from cityshield.timefmt import now_micros
from tests.utils.delivery import (
    push_settings,
    readable,
    receipts_of,
    register,
    remove_targets,
    target_of,
    wait_for,
)
from tests.utils.gate import Gate
from tests.utils.medallion import Medallion
from tests.utils.postgres import free_port
from tests.utils.server import Hub, TestMember, submit
from tests.utils.stix import fresh_ipv4, indicator, stamp

MARKING = {level: marking for marking, level in TLP2.items()}
_collections = itertools.count()


@pytest.fixture(scope="module")
def city_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Medallion]:
    """One medallion, a fresh collection of it per target."""
    with Medallion(tmp_path_factory.mktemp("medallion"), collections=40) as server:
        yield server


@pytest.fixture
def hub(policy_hub: Hub) -> Iterator[Hub]:
    """This module's own hub (its tests change the policy); no target outlives a test."""
    yield policy_hub
    remove_targets(policy_hub)


def fresh(server: Medallion) -> int:
    return next(_collections)


def marked(level: str, **extra: object) -> dict[str, object]:
    return indicator(value=fresh_ipv4(), object_marking_refs=[MARKING[level]], **extra)


def set_policy(hub: Hub, tmp_path: Path, text: str) -> None:
    path = tmp_path / f"policy-{next(_collections)}.yaml"
    path.write_text(text)
    with session_scope(hub.engine) as session:
        load_policy_files(session, [path])
    hub.publish_network()


def test_a_target_receives_exactly_what_its_member_may_see(
    hub: Hub, city_server: Medallion
) -> None:
    reader, network_reader = hub.member(groups=["north"]), hub.member(groups=["north"])
    neighbour, stranger = hub.member(groups=["north"]), hub.member(groups=["south"])
    green, shared, red = marked("green"), marked("amber"), marked("red")
    foreign, own = marked("amber"), marked("red")
    submit(hub, neighbour, green, shared, red)
    submit(hub, stranger, foreign)
    submit(hub, reader, own)
    subs, net = fresh(city_server), fresh(city_server)
    for member, view, index in ((reader, "submissions", subs), (network_reader, "network", net)):
        register(
            hub,
            member,
            api_root=city_server.api_root,
            collection=city_server.collections[index],
            view=view,
        )

    def arrived(member: TestMember, view: str, index: int) -> bool:
        """Every version the member reads is held, and nothing of an object it cannot read
        (a member reads only the latest version of its network views, so the receiver may
        also hold versions the member read before)."""
        held, seen = set(city_server.held(index)), readable(hub, member, view)
        return seen <= held and {i for i, _ in held} <= {i for i, _ in seen}

    with hub.worker(push_settings(hub)):
        wait_for(lambda: arrived(reader, "submissions", subs), "the submissions target")
        wait_for(lambda: arrived(network_reader, "network", net), "the network target")
        held = {object_id for object_id, _ in city_server.held(subs)}
        assert {green["id"], shared["id"], own["id"]} <= held
        assert red["id"] not in held, "another member's TLP:RED was pushed"
        assert foreign["id"] not in held, "AMBER from outside the member's groups was pushed"
        patterns = {o["pattern"] for o in city_server.objects(net)}
        assert green["pattern"] in patterns and shared["pattern"] in patterns
        assert red["pattern"] not in patterns, "a network indicator of a RED report was pushed"

        revoked = {**green, "modified": stamp(second=30), "revoked": True}
        submit(hub, neighbour, revoked)
        wait_for(lambda: arrived(reader, "submissions", subs), "the revocation (submissions)")
        wait_for(lambda: arrived(network_reader, "network", net), "the revocation (network)")
    assert (green["id"], revoked["modified"]) in city_server.held(subs), "new version missing"
    assert any(
        o["pattern"] == green["pattern"] and o.get("revoked") for o in city_server.objects(net)
    ), "the revoked network indicator did not arrive"
    assert max(city_server.held(subs).values()) == 1
    assert {r.status for r in receipts_of(hub, reader)} == {"delivered"}


def test_a_receiver_that_was_down_gets_what_was_queued_once(hub: Hub, tmp_path: Path) -> None:
    server = Medallion(tmp_path / "medallion").start()
    reader, author = hub.member(), hub.member()
    try:
        with Gate(server.base_url) as gate, hub.worker(push_settings(hub)):
            register(
                hub,
                reader,
                api_root=gate.api_root,
                collection=server.collections[0],
                view="submissions",
            )
            before = [marked("green") for _ in range(3)]
            submit(hub, author, *before)
            wait_for(
                lambda: {(o["id"], o["modified"]) for o in before} <= set(server.held()),
                "the first objects",
            )
            server.stop()
            during = [marked("green") for _ in range(7)]
            revised = {**before[0], "modified": stamp(second=40)}
            submit(hub, author, *during, revised)
            wait_for(lambda: target_of(hub, reader).attempts >= 2, "failed attempts")
            assert target_of(hub, reader).last_error, "the failure is not recorded"
            server.start()  # on the same port, holding what it held
            expected = readable(hub, reader, "submissions")
            wait_for(lambda: set(server.held()) == expected, "what was queued")
        held = server.held()
        assert set(held) == expected and max(held.values()) == 1
        assert max(gate.posted.values()) == 1, "an object was sent twice"
        assert set(gate.posted) == expected
        target = target_of(hub, reader)
        assert target.attempts == 0 and target.last_success_us is not None
    finally:
        server.stop()


def test_a_hung_receiver_does_not_delay_a_live_one(hub: Hub, city_server: Medallion) -> None:
    hung, live, author = hub.member(), hub.member(), hub.member()
    index = fresh(city_server)
    with Gate("http://127.0.0.1:9") as gate:
        gate.black_hole.set()  # accepts every request and never answers
        register(hub, hung, api_root=gate.api_root, collection="c")
        register(
            hub, live, api_root=city_server.api_root, collection=city_server.collections[index]
        )
        submit(hub, author, *(marked("green") for _ in range(3)))
        with hub.worker(push_settings(hub, delivery_timeout_seconds=600)):
            wait_for(gate.swallowed.is_set, "the hung receiver's first request")
            expected = readable(hub, live, "network")
            wait_for(lambda: set(city_server.held(index)) == expected, "the live target")
            assert not gate.release.is_set(), "the hung receiver's request is still open"
            assert receipts_of(hub, hung) == [] and target_of(hub, hung).last_success_us is None
            gate.release.set()  # let the worker stop


def test_a_dead_target_is_dead_lettered_after_n_attempts_and_retried(
    hub: Hub, tmp_path: Path
) -> None:
    port = free_port()  # nothing listens there yet
    reader, author = hub.member(), hub.member()
    server = Medallion(tmp_path / "medallion", port=port)
    register(hub, reader, api_root=server.api_root, collection=server.collections[0])
    submit(hub, author, marked("green"))
    settings = push_settings(hub, delivery_max_attempts=3)
    with hub.worker(settings):
        wait_for(lambda: target_of(hub, reader).state == "dead", "the dead letter")
    target = target_of(hub, reader)
    assert target.attempts == 3
    assert "cannot reach" in (target.last_error or ""), target.last_error
    assert receipts_of(hub, reader) == []
    with server, hub.worker(settings):
        with session_scope(hub.engine) as session:
            (retried,) = retry_targets(session, member_name=reader.name)
            assert retried.state == "active"
        expected = readable(hub, reader, "network")
        wait_for(lambda: set(server.held()) == expected, "delivery after the retry")
    assert target_of(hub, reader).attempts == 0


def test_two_workers_send_each_object_once(hub: Hub, city_server: Medallion) -> None:
    reader, author = hub.member(), hub.member()
    index = fresh(city_server)
    with Gate(city_server.base_url) as gate:
        register(
            hub,
            reader,
            api_root=gate.api_root,
            collection=city_server.collections[index],
            view="submissions",
        )
        submit(hub, author, *(marked("green") for _ in range(20)))
        settings = push_settings(hub, delivery_batch_size=3)
        expected = readable(hub, reader, "submissions")
        with hub.worker(settings), hub.worker(settings):
            wait_for(lambda: set(city_server.held(index)) == expected, "every object")
        assert set(gate.posted) == expected
        assert max(gate.posted.values()) == 1, "two workers sent one object"


def test_policy_widening_is_delivered_and_narrowing_is_never_sent(
    hub: Hub, city_server: Medallion, tmp_path: Path
) -> None:
    reader, author = hub.member(groups=["east"]), hub.member(groups=["east"])
    index = fresh(city_server)
    set_policy(hub, tmp_path, "version: 1\ndefault_marking: red\n")
    try:
        unmarked = indicator(value=fresh_ipv4(), object_marking_refs=[])
        del unmarked["object_marking_refs"]
        submit(hub, author, unmarked)
        register(
            hub,
            reader,
            api_root=city_server.api_root,
            collection=city_server.collections[index],
            view="submissions",
        )
        with hub.worker(push_settings(hub)):
            wait_for(
                lambda: set(city_server.held(index)) == readable(hub, reader, "submissions"),
                "what the member may read under default_marking red",
            )
            assert unmarked["id"] not in {i for i, _ in city_server.held(index)}
            set_policy(hub, tmp_path, "version: 1\ndefault_marking: amber\n")  # wider
            wait_for(
                lambda: unmarked["id"] in {i for i, _ in city_server.held(index)},
                "the object the wider policy made visible",
            )
            with session_scope(hub.engine) as session:
                pause_target(session, member_name=reader.name)
            queued = indicator(value=fresh_ipv4())
            del queued["object_marking_refs"]
            submit(hub, author, queued)  # visible now, but the target is paused
            set_policy(hub, tmp_path, "version: 1\ndefault_marking: red\n")  # narrower
            sentinel = marked("green")
            submit(hub, author, sentinel)
            with session_scope(hub.engine) as session:
                resume_target(session, member_name=reader.name)
            wait_for(
                lambda: sentinel["id"] in {i for i, _ in city_server.held(index)},
                "an object submitted after the narrowing",
            )
        held = {i for i, _ in city_server.held(index)}
        assert queued["id"] not in held, "an object the member may no longer see was sent"
    finally:
        set_policy(hub, tmp_path, "version: 1\n")


def test_min_members_holds_back_what_too_few_members_report(
    hub: Hub, city_server: Medallion
) -> None:
    reader, first, second = hub.member(), hub.member(), hub.member()
    index = fresh(city_server)
    register(
        hub,
        reader,
        api_root=city_server.api_root,
        collection=city_server.collections[index],
        min_members=2,
    )
    single, double = fresh_ipv4(), fresh_ipv4()
    submit(hub, first, indicator(value=single))
    submit(hub, first, indicator(value=double))
    submit(hub, second, indicator(value=double))

    def patterns() -> set[str]:
        return {o["pattern"] for o in city_server.objects(index)}

    with hub.worker(push_settings(hub)):
        wait_for(lambda: f"[ipv4-addr:value = '{double}']" in patterns(), "the IOC two report")
        assert f"[ipv4-addr:value = '{single}']" not in patterns()
        submit(hub, second, indicator(value=single))
        wait_for(lambda: f"[ipv4-addr:value = '{single}']" in patterns(), "the IOC once two")


def test_an_object_the_receiver_refuses_is_receipted_and_the_rest_goes_on(
    hub: Hub, city_server: Medallion
) -> None:
    reader, author = hub.member(), hub.member()
    index = fresh(city_server)
    objects = [marked("green") for _ in range(5)]
    poison = objects[2]
    with Gate(city_server.base_url) as gate:
        gate.refuse.add(poison["id"])
        register(
            hub,
            reader,
            api_root=gate.api_root,
            collection=city_server.collections[index],
            view="submissions",
        )
        submit(hub, author, *objects)
        expected = readable(hub, reader, "submissions")
        with hub.worker(push_settings(hub)):
            wait_for(
                lambda: (
                    set(city_server.held(index)) == expected - {(poison["id"], poison["modified"])}
                ),
                "everything but the refused object",
            )
            wait_for(lambda: len(receipts_of(hub, reader)) == len(expected), "every receipt")
            (refused,) = [r for r in receipts_of(hub, reader) if r.status == "rejected"]
            assert refused.object_id == poison["id"] and "not acceptable" in (refused.message or "")
            target = target_of(hub, reader)
            assert target.state == "active" and target.attempts == 0, "one refusal is no failure"
            gate.refuse.clear()  # the receiver's operator fixed their side
            with session_scope(hub.engine) as session:
                retry_targets(session, member_name=reader.name, rejected=True)
            wait_for(lambda: set(city_server.held(index)) == expected, "the refused one, resent")
        assert max(gate.posted.values()) == 1
        assert {r.status for r in receipts_of(hub, reader)} == {"delivered"}


def test_due_targets_take_turns_by_their_last_attempt(hub: Hub) -> None:
    """With more due targets than delivery threads, the least recently served goes first:
    under steady ingest, an order by id kept restarting the first few targets (due again a
    moment later) while the last waited until the load stopped."""
    members = [hub.member() for _ in range(3)]
    submit(hub, members[0], marked("green"))  # every member's view has a row past cursor 0
    ids = [
        register(hub, m, api_root="http://127.0.0.1:9/api1/", collection="c").id for m in members
    ]
    assert all(i is not None for i in ids)

    def served(order: list[int]) -> None:
        with session_scope(hub.engine) as session:
            for at, target_id in enumerate(order, start=1):
                target = session.get(DeliveryTarget, target_id)
                assert target is not None
                target.last_attempt_us = at

    def due() -> list[int]:
        with session_scope(hub.engine) as session:
            found = due_targets(session, now_us=now_micros())
        return [i for i in found if i in ids]

    assert due() == ids  # none served yet: by id
    served([ids[0], ids[1], ids[2]])
    assert due() == ids
    served([ids[1], ids[2], ids[0]])  # the first was served last
    assert due() == [ids[1], ids[2], ids[0]]
