"""Concurrent writers: a reader following added_after never skips or repeats an object, the
same version posted concurrently is stored once, and reports arriving while the network
view is being published are never lost from it (nor is anything published twice when two
publishers meet)."""

from __future__ import annotations

import functools
import random
import threading
import time
import uuid
from collections.abc import Callable

import orjson
from sqlalchemy import func, select
from sqlmodel import col

from cityshield.db import session_scope
from cityshield.dedup.canonical import canonical_ioc
from cityshield.dedup.hub_context import HubContext
from cityshield.dedup.publish import CORROBORATION_EXTENSION_ID, network_indicator_id
from cityshield.dedup.service import has_pending_publication, publish_pending
from cityshield.flows.ingest import add_objects
from cityshield.hub.service import load_hub_context
from cityshield.members.service import caller_for_token
from cityshield.store.collections import SUBMISSIONS_ALIAS, get_collection_by_alias
from cityshield.store.models import StixObject
from tests.utils.server import TAXII, Hub, TestMember, ingest_in_process, submit
from tests.utils.stix import envelope, indicator

WRITERS, ENVELOPES, PER_ENVELOPE = 4, 8, 25


def run_alongside(
    workers: list[Callable[[], None]], background: Callable[[], None], done: threading.Event
) -> None:
    """Run ``workers`` in threads while ``background`` runs in another; set ``done`` when
    the workers have finished, then wait for ``background`` to notice."""
    threads = [threading.Thread(target=work) for work in workers]
    behind = threading.Thread(target=background)
    behind.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    done.set()
    behind.join(timeout=120)


def test_reader_following_added_after_sees_every_object_once(hub: Hub) -> None:
    collection = hub.collection()
    posted: list[str] = []
    lock = threading.Lock()
    done = threading.Event()
    errors: list[str] = []

    def writer() -> None:
        with hub.client(hub.member()) as client:
            for _ in range(ENVELOPES):
                objects = [indicator() for _ in range(PER_ENVELOPE)]
                response = client.post(
                    f"collections/{collection}/objects/",
                    content=orjson.dumps(envelope(*objects)),
                    headers={"Content-Type": TAXII},
                )
                if response.status_code != 202 or response.json()["success_count"] != PER_ENVELOPE:
                    errors.append(response.text)
                with lock:
                    posted.extend(o["id"] for o in objects)

    seen: list[str] = []

    def reader() -> None:
        after = None
        with hub.client(hub.member()) as client:
            for _ in range(5000):  # bounded: the writers finish long before this
                finished = done.is_set()
                query = "limit=40" + (f"&added_after={after}" if after else "")
                response = client.get(f"collections/{collection}/objects/?{query}")
                body = response.json()
                seen.extend(o["id"] for o in body.get("objects", []))
                if body.get("objects"):
                    after = response.headers["X-TAXII-Date-Added-Last"]
                elif finished:
                    return
                else:
                    time.sleep(0.005)

    run_alongside([writer] * WRITERS, reader, done)
    assert not errors
    assert len(posted) == WRITERS * ENVELOPES * PER_ENVELOPE
    assert len(seen) == len(set(seen)), "no object is served twice"
    assert set(seen) == set(posted), "no object is skipped"


def post_concurrently(hub: Hub, collection: str, shared: list, members: list) -> list[dict]:
    """Each member POSTs ``shared`` (signed by itself) at the same time; the statuses."""
    results: list[dict] = []

    def writer(member: TestMember) -> None:
        with hub.client(member) as client:
            response = client.post(
                f"collections/{collection}/objects/",
                content=orjson.dumps(envelope(*shared)),
                headers={"Content-Type": TAXII},
            )
            results.append(response.json())

    threads = [threading.Thread(target=writer, args=(member,)) for member in members]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_same_version_posted_concurrently_is_stored_once(hub: Hub) -> None:
    """One member's client retrying in parallel: every POST succeeds, one row each."""
    collection = hub.collection()
    shared = [indicator() for _ in range(50)]
    member = hub.member()
    results = post_concurrently(hub, collection, shared, [member] * 4)
    assert [r["success_count"] for r in results] == [50] * 4
    with hub.client(hub.member()) as client:
        body = client.get(f"collections/{collection}/manifest/?match[version]=all").json()
    assert sorted(e["id"] for e in body["objects"]) == sorted(o["id"] for o in shared)


def test_members_racing_for_the_same_new_ids_cannot_both_own_them(hub: Hub) -> None:
    """Four members post the same new ids at once: the ownership check runs under the
    collection lock, so exactly one member's copy of each id is stored."""
    collection = hub.collection()
    shared = [indicator() for _ in range(20)]
    results = post_concurrently(hub, collection, shared, [hub.member() for _ in range(4)])
    assert sorted(r["success_count"] for r in results) == [0, 0, 0, 20]
    assert all("not-the-submitter" in f["message"] for r in results for f in r.get("failures", []))


def test_reports_racing_the_publisher_all_reach_the_network_view(hub: Hub) -> None:
    """Members report overlapping IOCs while a publisher runs in a loop: when everything
    has settled, every IOC's network indicator counts exactly the members that reported it
    (a report whose queue entry the publisher consumed without seeing it would be lost)."""
    patterns = [f"[domain-name:value = 'race-{uuid.uuid4().hex[:12]}.example']" for _ in range(12)]
    members = [hub.member() for _ in range(4)]
    reporters: dict[str, set[str]] = {p: set() for p in patterns}
    errors: list[str] = []
    done = threading.Event()

    def writer(member: TestMember, seed: int) -> None:
        rng = random.Random(seed)
        with hub.client(member) as client:
            for _ in range(6):
                chosen = rng.sample(patterns, 5)
                response = client.post(
                    "collections/submissions/objects/",
                    content=orjson.dumps(envelope(*(indicator(pattern=p) for p in chosen))),
                    headers={"Content-Type": TAXII},
                )
                if response.status_code != 202 or response.json()["failure_count"]:
                    errors.append(response.text)
                for p in chosen:
                    reporters[p].add(member.name)

    def publisher() -> None:
        for _ in range(2000):  # bounded; the writers finish long before
            if done.is_set():
                return
            try:
                hub.publish_network()
            except Exception as exc:  # reported through the assertion below
                errors.append(repr(exc))

    writers = [functools.partial(writer, m, i) for i, m in enumerate(members)]
    run_alongside(writers, publisher, done)
    assert not errors
    hub.publish_network()  # what was queued after the loop stopped
    for pattern, names in reporters.items():
        assert member_count(hub, members[0], pattern) == len(names), pattern


def member_count(hub: Hub, member: TestMember, pattern: str) -> int:
    object_id = network_indicator_id(canonical_ioc(pattern).key)
    with hub.client(member) as client:
        response = client.get(f"collections/network/objects/{object_id}/")
    assert response.status_code == 200, response.text
    (latest,) = response.json()["objects"]
    return int(latest["extensions"][CORROBORATION_EXTENSION_ID]["member_count"])


def test_a_publisher_waits_for_a_writer_queueing_the_same_ioc(hub: Hub) -> None:
    """Step by step, the interleaving the random race above only sometimes hits: a report
    of an IOC that is already queued is written but not yet committed when the publisher
    runs. The publisher must wait for it and count it, or leave the IOC queued."""
    first, second = hub.member(), hub.member()
    pattern = f"[domain-name:value = 'wait-{uuid.uuid4().hex[:12]}.example']"
    submit(hub, first, indicator(pattern=pattern))
    with session_scope(hub.engine) as session:  # queue it again, committed, unpublished
        context = load_hub_context(session, hub.settings)
        caller = caller_for_token(session, token=first.token, name=first.name)
        assert caller is not None
        submissions = get_collection_by_alias(session, SUBMISSIONS_ALIAS)
        add_objects(
            session,
            caller=caller,
            collection=submissions,
            objects=first.sign(indicator(pattern=pattern)),
            network=context,
        )
    published = threading.Event()
    with session_scope(hub.engine) as writing:
        caller = caller_for_token(writing, token=second.token, name=second.name)
        assert caller is not None
        add_objects(
            writing,
            caller=caller,
            collection=get_collection_by_alias(writing, SUBMISSIONS_ALIAS),
            objects=second.sign(indicator(pattern=pattern)),
            network=context,
        )

        def publisher() -> None:
            with session_scope(hub.engine) as session:
                publish_pending(session, context=context)
            published.set()

        publishing = threading.Thread(target=publisher)
        publishing.start()
        published.wait(timeout=1.5)  # a correct publisher is blocked until we commit
    publishing.join(timeout=60)
    assert published.is_set()
    hub.publish_network()  # whatever is still queued
    assert member_count(hub, first, pattern) == 2


def ingest(hub: Hub, member: TestMember, *objects: dict) -> None:
    """Store ``member``'s signed objects in ``submissions`` in-process, committed, as a
    POST does, without publishing (the test decides when the publisher runs)."""
    status = ingest_in_process(hub, member, *objects)
    assert status.failure_count == 0, status.details


def network_versions(hub: Hub, pattern: str) -> int:
    """How many network-wide versions of the IOC's indicator the hub stored."""
    object_id = network_indicator_id(canonical_ioc(pattern).key)
    with session_scope(hub.engine) as session:
        query = select(func.count()).where(col(StixObject.object_id) == object_id)
        return int(session.execute(query).scalar_one())


def test_a_report_queued_while_the_publisher_builds_is_published_next_pass(hub: Hub) -> None:
    """The publisher builds from a snapshot, outside any write lock: a report committed
    between its build and its write (here, deterministically, from the hook it calls in
    between, in this very thread: had the publisher held the write lock, the report would
    wait for it for good) is not counted by that pass, so its IOC stays queued, and the
    next pass counts it."""
    first, second = hub.member(), hub.member()
    pattern = f"[domain-name:value = 'snap-{uuid.uuid4().hex[:12]}.example']"
    hub.publish_network()  # whatever other tests left queued
    ingest(hub, first, indicator(pattern=pattern))
    context = hub_context(hub)
    with session_scope(hub.engine) as session:
        published = publish_pending(
            session, context=context, built=lambda: ingest(hub, second, indicator(pattern=pattern))
        )
    assert published >= 1
    assert member_count(hub, first, pattern) == 1, "the pass built before the second report"
    with session_scope(hub.engine) as session:
        assert has_pending_publication(session), "the IOC queued again stays queued"
    hub.publish_network()
    assert member_count(hub, first, pattern) == 2
    assert member_count(hub, second, pattern) == 2
    assert network_versions(hub, pattern) == 2


def test_a_plan_another_publisher_overtook_is_rebuilt_not_written(hub: Hub) -> None:
    """Another publisher (here a second pass, run from the hook between the first pass's
    build and its write) publishes the same IOCs first: the first pass sees that someone
    took the network lock since its snapshot, drops what it built and starts again, so
    nothing is published twice and no member's view is written twice."""
    member = hub.member()
    pattern = f"[domain-name:value = 'overtaken-{uuid.uuid4().hex[:12]}.example']"
    hub.publish_network()
    ingest(hub, member, indicator(pattern=pattern))
    context = hub_context(hub)
    overtaken: list[int] = []

    def other_publisher() -> None:
        if not overtaken:  # only before the first attempt's write
            with session_scope(hub.engine) as session:
                overtaken.append(publish_pending(session, context=context))

    with session_scope(hub.engine) as session:
        assert publish_pending(session, context=context, built=other_publisher) == 0
    assert overtaken and overtaken[0] >= 1
    assert network_versions(hub, pattern) == 1
    assert member_count(hub, member, pattern) == 1
    with session_scope(hub.engine) as session:
        assert not has_pending_publication(session)


def hub_context(hub: Hub) -> HubContext:
    with session_scope(hub.engine) as session:
        return load_hub_context(session, hub.settings)
