"""A feed's row: made and kept in step with its definition file, read for health, and the
bookkeeping of its pulls (when due, how the last one went, the cursor and validators).

Definitions are synchronised whenever the worker's job or a CLI command reads the
directory: a new enabled file gets its principal (role ``feed``, with the file's
``groups``), its key and its row, and is due at once; changed ``groups`` recompute every
audience, as a policy reload does; the hub (re)publishes the identities whose attribution
changed; a removed file leaves its row (and what the feed vouched for, which then ages
out) but is no longer pulled.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import select, update
from sqlmodel import Session, col

from cityshield.errors import NotFound
from cityshield.feeds.definition import FeedDefinition
from cityshield.feeds.keys import ensure_feed_key
from cityshield.feeds.load import Definitions
from cityshield.feeds.models import Feed
from cityshield.flows.members import publish_identities
from cityshield.flows.policy import reapply_policy
from cityshield.members.service import ensure_feed_principal
from cityshield.store.models import Member

MAX_ERROR_CHARS = 2000


def sync_definitions(
    session: Session,
    *,
    home: Path,
    definitions: Definitions,
    now_us: int,
    include: Collection[str] = (),
) -> dict[str, Feed]:
    """Bring every feed's row, principal, key and identity in step with its definition;
    returns the defined feeds' rows by name.

    A disabled feed that was never enabled (the shipped definitions, until an operator
    turns one on) gets nothing, unless named in ``include`` (``feeds run NAME``): a hub
    does not publish identities for feeds it does not use."""
    rows = {row.name: row for row in session.execute(select(Feed)).scalars()}
    republish = reshare = False
    for name, definition in definitions.feeds.items():
        if name not in rows and not definition.enabled and name not in include:
            continue
        member, regrouped = ensure_feed_principal(session, feed_name=name, groups=definition.groups)
        reshare = reshare or regrouped
        attribution = orjson.dumps(
            definition.attribution.model_dump(exclude_none=True) if definition.attribution else {}
        ).decode()
        row = rows.get(name)
        if row is None:
            row = Feed(
                name=name,
                member_id=member.id or 0,
                salt=str(uuid.uuid4()),
                next_due_us=now_us,
                attribution=attribution,
            )
            rows[name] = row
            republish = True
        elif row.attribution != attribution:
            row.attribution = attribution
            republish = True
        text = definition.model_dump_json(exclude_unset=True)
        if row.definition != text:
            row.next_due_us = _due_after_change(row, definition, now_us)
            row.definition = text
        row.defined = True
        session.add(row)
        ensure_feed_key(session, home=home, feed_name=name, member_id=row.member_id)
    for name, row in rows.items():
        if name not in definitions.feeds and row.defined:
            row.defined = False
            session.add(row)
    session.flush()
    if republish:
        publish_identities(session, home=home)
    if reshare:  # a feed's AMBER now reaches other members (or fewer)
        reapply_policy(session)
    return {name: row for name, row in rows.items() if row.defined}


def _due_after_change(row: Feed, definition: FeedDefinition, now_us: int) -> int:
    """A shorter interval applies from the last start, not after the old interval."""
    if row.started_us is None:
        return now_us
    return min(row.next_due_us, row.started_us + int(definition.interval * 1_000_000))


def get_feed_or_raise(session: Session, name: str) -> Feed:
    row: Feed | None = session.execute(
        select(Feed).where(col(Feed.name) == name)
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"No feed named {name!r}.")
    return row


def definition_of(row: Feed) -> FeedDefinition:
    return FeedDefinition.model_validate_json(row.definition)


def due_feeds(session: Session, *, now_us: int, exclude: set[str], limit: int) -> list[str]:
    """Names of enabled, defined feeds whose interval has passed, the longest-due first."""
    rows = session.execute(
        select(col(Feed.name), col(Feed.definition))
        .where(col(Feed.defined), col(Feed.next_due_us) <= now_us)
        .order_by(col(Feed.next_due_us), col(Feed.name))
    ).all()
    names = [
        name
        for name, text in rows
        if name not in exclude and orjson.loads(text).get("enabled", True)
    ]
    return names[:limit]


def principal_of(session: Session, row: Feed) -> Member:
    member = session.get(Member, row.member_id)
    if member is None:  # the principal row cascades its feed away: cannot happen
        raise NotFound(f"Feed {row.name!r} has no principal.")
    return member


def start_pull(session: Session, *, name: str, now_us: int, interval_s: float) -> None:
    """Record a pull's start; the feed is next due one interval after it."""
    session.execute(
        update(Feed)
        .where(col(Feed.name) == name)
        .values(started_us=now_us, next_due_us=now_us + int(interval_s * 1_000_000))
    )


@dataclass
class Outcome:
    """How a pull went, as recorded in the feed's health."""

    added: int = 0
    withdrawn: int = 0
    rejected: int = 0
    problems: list[str] | None = None
    not_modified: bool = False
    error: str | None = None
    cursor: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    validators: bool = False
    """Whether ``cursor``/``etag``/``last_modified`` are to be stored (a complete pull)."""

    def note(self, problem: str) -> None:
        self.problems = [*(self.problems or []), problem][:20]


def finish_pull(session: Session, *, name: str, outcome: Outcome, now_us: int) -> None:
    values: dict[str, Any] = {
        "finished_us": now_us,
        "added": outcome.added,
        "withdrawn": outcome.withdrawn,
        "rejected": outcome.rejected,
        "problems": orjson.dumps(outcome.problems or []).decode(),
        "not_modified": outcome.not_modified,
        "total_added": col(Feed.total_added) + outcome.added,
    }
    if outcome.error is None:
        values.update(succeeded_us=now_us, last_error=None)
    else:
        values["last_error"] = outcome.error[:MAX_ERROR_CHARS]
    if outcome.validators:
        values.update(cursor=outcome.cursor, etag=outcome.etag, last_modified=outcome.last_modified)
    session.execute(update(Feed).where(col(Feed.name) == name).values(**values))


def save_cursor(session: Session, *, name: str, cursor: str | None) -> None:
    """A TAXII pull's cursor, kept when a pull stops early at a safe point."""
    session.execute(update(Feed).where(col(Feed.name) == name).values(cursor=cursor))


def set_content_digest(session: Session, *, name: str, digest: str) -> None:
    session.execute(update(Feed).where(col(Feed.name) == name).values(content_digest=digest))
