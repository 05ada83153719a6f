"""The per-collection write lock: a second writer waits for the first to commit and then
gets a later date_added, so commit order equals date_added order (no reader can skip)."""

from __future__ import annotations

import threading

from sqlalchemy import select
from sqlmodel import Session

from cityshield.flows.ingest import add_objects
from cityshield.members.service import caller_for_token
from cityshield.store.collections import get_collection_or_raise
from cityshield.store.models import StixObject
from cityshield.timefmt import now_micros
from tests.utils.server import Hub
from tests.utils.stix import indicator


def test_second_writer_waits_and_gets_later_date_added(hub: Hub) -> None:
    creds = hub.member()
    collection_id = hub.collection()
    first_obj, second_obj = creds.sign(indicator(), indicator())
    second_done = threading.Event()

    with Session(hub.engine) as first:
        caller = caller_for_token(first, token=creds.token)
        assert caller is not None
        collection = get_collection_or_raise(first, collection_id)
        add_objects(first, caller=caller, collection=collection, objects=[first_obj], network=None)

        def second_writer() -> None:
            with Session(hub.engine) as second:
                add_objects(
                    second,
                    caller=caller,
                    collection=get_collection_or_raise(second, collection_id),
                    objects=[second_obj],
                    network=None,
                )
                second.commit()
            second_done.set()

        thread = threading.Thread(target=second_writer)
        thread.start()
        assert not second_done.wait(1.0), "second writer must wait for the first to commit"
        first.commit()
        committed_us = now_micros()
    thread.join(timeout=30)
    assert second_done.is_set()
    with Session(hub.engine) as session:
        added = dict(
            session.execute(
                select(StixObject.object_id, StixObject.date_added_us).where(
                    StixObject.collection_id == collection_id
                )
            ).all()
        )
    assert added[second_obj["id"]] > added[first_obj["id"]]
    # The second writer took its date_added only once the first had committed: taken any
    # earlier, a slow first writer could commit a smaller date_added after a reader moved on.
    assert added[second_obj["id"]] > committed_us
