"""Concurrent writers: a reader following added_after never skips or repeats an object, and
the same version posted concurrently is stored once."""

from __future__ import annotations

import threading
import time

import orjson

from tests.utils.server import TAXII, Hub
from tests.utils.stix import envelope, indicator

WRITERS, ENVELOPES, PER_ENVELOPE = 4, 8, 25


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

    threads = [threading.Thread(target=writer) for _ in range(WRITERS)]
    read_thread = threading.Thread(target=reader)
    read_thread.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    done.set()
    read_thread.join(timeout=120)
    assert not errors
    assert len(posted) == WRITERS * ENVELOPES * PER_ENVELOPE
    assert len(seen) == len(set(seen)), "no object is served twice"
    assert set(seen) == set(posted), "no object is skipped"


def test_same_version_posted_concurrently_is_stored_once(hub: Hub) -> None:
    collection = hub.collection()
    shared = [indicator() for _ in range(50)]
    results: list[dict] = []

    def writer() -> None:
        with hub.client(hub.member()) as client:
            response = client.post(
                f"collections/{collection}/objects/",
                content=orjson.dumps(envelope(*shared)),
                headers={"Content-Type": TAXII},
            )
            results.append(response.json())

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [r["success_count"] for r in results] == [50] * 4
    with hub.client(hub.member()) as client:
        body = client.get(f"collections/{collection}/manifest/?match[version]=all").json()
    assert sorted(e["id"] for e in body["objects"]) == sorted(o["id"] for o in shared)
