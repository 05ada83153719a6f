"""Running one feed's pull under its own lease, and recording how it went.

Each feed has its own lease (``feed:NAME`` in the ``job`` table, ``store/leases.py``), so
two workers -- or the worker and ``cityshield feeds run`` -- never pull one feed at once,
while different feeds are pulled side by side. The lease outlasts the feed's timeout and
is renewed between batches and pages; a worker that dies lets it expire.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import replace

from cityshield.db import session_scope
from cityshield.errors import CityShieldError
from cityshield.feeds.authoring import Author
from cityshield.feeds.definition import LIST_KINDS, FeedDefinition
from cityshield.feeds.keys import ensure_feed_key
from cityshield.feeds.pull import PullContext, Snapshot
from cityshield.feeds.pull_lists import pull_list
from cityshield.feeds.pull_taxii import pull_taxii
from cityshield.feeds.state import (
    Outcome,
    finish_pull,
    get_feed_or_raise,
    principal_of,
    start_pull,
)
from cityshield.store.leases import Lease
from cityshield.timefmt import now_micros

log = logging.getLogger(__name__)

LEASE_PREFIX = "feed:"


def lease_us(definition: FeedDefinition) -> int:
    """Longer than the longest wait between two renewals (one request's timeout)."""
    return int(max(60.0, 3 * definition.timeout) * 1_000_000)


def pull_with_lease(
    context: PullContext, definition: FeedDefinition, *, holder: str
) -> Outcome | None:
    """Pull the feed if this holder gets its lease; None if someone else is pulling it."""
    lease = Lease(
        context.engine,
        name=LEASE_PREFIX + definition.name,
        holder=holder,
        lease_us=lease_us(definition),
    )
    if not lease.take():
        return None

    def renew() -> bool:
        return lease.renew() and context.renew()

    outcome = pull_feed(replace(context, renew=renew), definition)
    lease.finish(error=outcome.error)
    return outcome


def pull_feed(context: PullContext, definition: FeedDefinition) -> Outcome:
    """Pull ``definition``'s feed once and record how it went in its health."""
    outcome = Outcome()
    try:
        snapshot = _begin(context, definition)
        if definition.kind in LIST_KINDS:
            pull_list(context, snapshot, definition, outcome)
        else:
            pull_taxii(context, snapshot, definition, outcome)
    except CityShieldError as exc:
        outcome.error = exc.description
    except Exception as exc:  # a bug or a database failure: recorded, and the others go on
        log.exception("feed %s: pull failed", definition.name)
        outcome.error = f"{type(exc).__name__}: {exc}"
    with session_scope(context.engine) as session:
        finish_pull(session, name=definition.name, outcome=outcome, now_us=now_micros())
    if outcome.error:
        log.warning("feed %s: %s", definition.name, outcome.error)
    return outcome


def _begin(context: PullContext, definition: FeedDefinition) -> Snapshot:
    """Record the start (the feed is next due one interval later, whatever happens) and
    read its state."""
    with session_scope(context.engine) as session:
        start_pull(
            session, name=definition.name, now_us=now_micros(), interval_s=definition.interval
        )
    with session_scope(context.engine) as session:
        row = get_feed_or_raise(session, definition.name)
        principal = principal_of(session, row)
        key = ensure_feed_key(
            session, home=context.home, feed_name=row.name, member_id=row.member_id
        )
        return Snapshot(
            feed_id=row.id or 0,
            name=row.name,
            cursor=row.cursor,
            etag=row.etag,
            last_modified=row.last_modified,
            content_digest=row.content_digest,
            author=Author(definition, principal.identity_id, uuid.UUID(row.salt), key),
        )
