"""What a pull of any kind shares: its context, the feed's state as it started, and the
one way in (``pull_lists``, ``pull_taxii``; ``feeds/run.py`` chooses and records).

The caller holds the feed's lease (``feeds/job.py``). A pull opens a database session
only for short steps -- read the feed's state, write one batch -- and never while it waits
on the network: the download (``fetch``) or each TAXII page is read with no session open.
Everything pulled enters through :func:`cityshield.flows.ingest.add_objects` in batches,
each batch in one transaction together with the feed's record of what it now vouches for,
so a pull that stops half-way leaves a consistent state the next pull continues from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine
from sqlmodel import Session

from cityshield.dedup.hub_context import HubContext
from cityshield.feeds.authoring import Author
from cityshield.feeds.definition import FeedDefinition
from cityshield.feeds.state import Outcome, get_feed_or_raise, principal_of
from cityshield.flows.ingest import add_objects
from cityshield.members.caller import Caller
from cityshield.members.service import caller_for, get_member_or_raise
from cityshield.store.collections import SUBMISSIONS_ALIAS, get_collection_by_alias


@dataclass(frozen=True)
class PullContext:
    """What a pull needs besides its feed: the database, the hub, limits, and the lease."""

    engine: Engine
    home: Path
    network: HubContext
    max_bytes: int = 256 * 1024 * 1024
    batch_size: int = 500
    renew: Callable[[], bool] = field(default=lambda: True)
    """Extend the feed's lease between batches; False if it was lost: stop."""
    stopping: Callable[[], bool] = field(default=lambda: False)


@dataclass(frozen=True)
class Snapshot:
    """The feed's row as the pull started (read once, in a short transaction)."""

    feed_id: int
    name: str
    cursor: str | None
    etag: str | None
    last_modified: str | None
    content_digest: str
    author: Author


@dataclass
class Ingested:
    """What ingest said about a batch: accepted ids, and refusals with their reasons."""

    accepted: set[str]
    refused: dict[str, str]


def submitter(session: Session, snapshot: Snapshot, definition: FeedDefinition) -> Caller:
    """Who the feed's objects are submitted as: its principal, or -- for a member's own
    server -- that member, whose signatures its objects must then carry."""
    if definition.member is not None:
        return caller_for(session, get_member_or_raise(session, definition.member))
    return caller_for(session, principal_of(session, get_feed_or_raise(session, snapshot.name)))


def ingest(
    session: Session,
    context: PullContext,
    snapshot: Snapshot,
    definition: FeedDefinition,
    objects: list[dict[str, Any]],
) -> Ingested:
    """Submit ``objects`` through the one ingest path, in the caller's transaction."""
    if not objects:
        return Ingested(set(), {})
    status = add_objects(
        session,
        caller=submitter(session, snapshot, definition),
        collection=get_collection_by_alias(session, SUBMISSIONS_ALIAS),
        objects=objects,
        network=context.network,
    )
    details = orjson.loads(status.details)
    refused = {f.get("id", ""): f.get("message", "refused") for f in details["failures"]}
    accepted = {s["id"] for s in details["successes"]} - set(refused)
    return Ingested(accepted, refused)


def note_refusals(outcome: Outcome, ingested: Ingested) -> None:
    outcome.rejected += len(ingested.refused)
    for object_id, message in list(ingested.refused.items())[:5]:
        outcome.note(f"{object_id}: {message}")


def keep_going(context: PullContext, outcome: Outcome) -> bool:
    """Between batches: False (with the reason recorded) if the pull must stop now."""
    if context.stopping():
        outcome.error = "stopped with the worker; the next pull continues"
        return False
    if not context.renew():
        outcome.error = "the feed's lease was lost; the next pull continues"
        return False
    return True
