"""What admins ask about feeds: the definitions on disk, each feed's health, and a pull
now (``cityshield feeds list|status|run``, ``GET /api/v1/feeds``)."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Engine, func, select
from sqlmodel import Session, col

from cityshield.config import Settings
from cityshield.db import session_scope
from cityshield.feeds.definition import FeedDefinition
from cityshield.feeds.job import pull_context, read_definitions
from cityshield.feeds.load import Definitions
from cityshield.feeds.models import Feed, FeedItem, FeedPublic
from cityshield.feeds.run import pull_with_lease
from cityshield.feeds.state import definition_of, get_feed_or_raise, sync_definitions
from cityshield.hub.service import load_hub_context
from cityshield.members.service import FEED_PREFIX
from cityshield.store.models import Member
from cityshield.timefmt import format_timestamp, now_micros


def describe_definitions(definitions: Definitions) -> dict[str, Any]:
    """The definitions as read from their files, and every problem found in them."""
    return {
        "feeds": [
            {
                "name": d.name,
                "kind": d.kind,
                "url": d.url,
                "enabled": d.enabled,
                "interval_seconds": d.interval,
                "tlp": d.tlp,
                "confidence": d.confidence,
                "principal": d.principal,
            }
            for d in definitions.feeds.values()
        ],
        "problems": definitions.problems,
    }


def list_feed_health(session: Session) -> list[FeedPublic]:
    """Every feed the hub has pulled or will pull, by name."""
    rows = session.execute(
        select(Feed, col(Member.identity_id))
        .join(Member, col(Member.id) == col(Feed.member_id))
        .order_by(col(Feed.name))
    ).all()
    counts = session.execute(
        select(col(FeedItem.feed_id), func.count())
        .where(col(FeedItem.active))
        .group_by(col(FeedItem.feed_id))
    ).all()
    vouched = {int(feed_id): int(count) for feed_id, count in counts}
    return [_public(row, identity, vouched.get(row.id or 0, 0)) for row, identity in rows]


def get_feed_health(session: Session, name: str) -> FeedPublic:
    get_feed_or_raise(session, name)
    return next(f for f in list_feed_health(session) if f.name == name)


def _time(micros: int | None) -> str | None:
    return None if micros is None else format_timestamp(micros)


def _public(row: Feed, identity: str, vouched: int) -> FeedPublic:
    definition = definition_of(row)
    return FeedPublic(
        name=row.name,
        kind=definition.kind,
        url=definition.url,
        enabled=definition.enabled,
        defined=row.defined,
        interval_seconds=definition.interval,
        tlp=definition.tlp,
        confidence=definition.confidence,
        principal=FEED_PREFIX + row.name,
        identity=identity,
        last_started=_time(row.started_us),
        last_finished=_time(row.finished_us),
        last_success=_time(row.succeeded_us),
        last_error=row.last_error,
        ok=None if row.finished_us is None else row.last_error is None,
        next_due=_time(row.next_due_us) if row.defined and definition.enabled else None,
        not_modified=row.not_modified,
        added=row.added,
        withdrawn=row.withdrawn,
        rejected=row.rejected,
        problems=orjson.loads(row.problems),
        total_added=row.total_added,
        vouched=vouched,
        cursor=row.cursor,
        etag=row.etag,
        last_modified=row.last_modified,
    )


def run_now(
    *, engine: Engine, settings: Settings, name: str | None, holder: str
) -> list[dict[str, Any]]:
    """Pull one feed (even a disabled one: an operator trying a definition) or every
    enabled one, now, in this process; what each pull did."""
    with session_scope(engine) as session:
        network = load_hub_context(session, settings)
        definitions = read_definitions(session, settings)
        if name is not None:
            chosen: list[FeedDefinition] = [definitions.get_or_raise(name)]
            sync_definitions(
                session,
                home=settings.home,
                definitions=definitions,
                now_us=now_micros(),
                include={name},
            )
        else:
            chosen = [d for d in definitions.feeds.values() if d.enabled]
    context = pull_context(engine, settings, network)
    results: list[dict[str, Any]] = []
    for definition in chosen:
        outcome = pull_with_lease(context, definition, holder=holder)
        if outcome is None:
            results.append({"name": definition.name, "error": "another worker is pulling it"})
            continue
        results.append(
            {
                "name": definition.name,
                "ok": outcome.error is None,
                "not_modified": outcome.not_modified,
                "added": outcome.added,
                "withdrawn": outcome.withdrawn,
                "rejected": outcome.rejected,
                "problems": outcome.problems or [],
                "error": outcome.error,
            }
        )
    return results
