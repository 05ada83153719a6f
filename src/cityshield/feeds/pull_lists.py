"""Pulling a list feed (``csv``, ``text``): the list now, against what the feed vouched for.

- a value new to the feed gets the feed's indicator for it (a value that returns after it
  was withdrawn gets a new one: a revoked STIX object stays revoked);
- a value that is no longer listed is withdrawn: its indicator gets a revoked version, so
  the feed stops vouching for it in the network view, as MISP's delta merge does;
- a value still listed is vouched for again (a new version) once its last version is
  ``refresh`` old, so that it does not age out of the network view while the feed still
  lists it; and every value is, when the definition changes what its objects say (TLP,
  confidence, types);
- a 304 means the list is unchanged: no download, no parsing, only those refreshes due.

A 200 whose every line is refused (an HTML error page served as the list) withdraws
nothing: it is an error, not an empty list.
"""

from __future__ import annotations

from collections.abc import Sequence

from cityshield.db import session_scope
from cityshield.feeds.definition import FeedDefinition
from cityshield.feeds.errors import FeedPullError
from cityshield.feeds.fetch import credentials, fetch_list
from cityshield.feeds.items import Item, load_items, save_items
from cityshield.feeds.lists import parse_list
from cityshield.feeds.pull import (
    PullContext,
    Snapshot,
    ingest,
    keep_going,
    note_refusals,
)
from cityshield.feeds.state import Outcome, set_content_digest
from cityshield.timefmt import now_micros

Change = tuple[bytes, Item]
"""A value's key digest and the state of its item once the change is written."""


def pull_list(
    context: PullContext, snapshot: Snapshot, definition: FeedDefinition, outcome: Outcome
) -> None:
    fetched = fetch_list(
        definition.url,
        etag=snapshot.etag,
        last_modified=snapshot.last_modified,
        secret=credentials(definition.auth),
        timeout_s=definition.timeout,
        max_bytes=context.max_bytes,
    )
    listed: dict[bytes, str] | None = None
    if fetched.not_modified:
        outcome.not_modified = True
    else:
        parsed = parse_list(definition, fetched.body)
        outcome.rejected, outcome.problems = parsed.rejected, parsed.problems
        if not parsed.keys and parsed.rejected:
            raise FeedPullError(
                f"none of the {parsed.lines} lines holds a valid value, so nothing was "
                f"withdrawn; first: {parsed.problems[0] if parsed.problems else '?'}"
            )
        listed = parsed.keys
    with session_scope(context.engine) as session:
        items = load_items(session, snapshot.feed_id)
    digest = definition.content_digest()
    changes = plan_list(
        snapshot,
        items,
        listed,
        now_us=now_micros(),
        refresh_us=int(definition.refresh * 1_000_000),
        republish=snapshot.content_digest != digest,
    )
    if not _write(context, snapshot, definition, changes, outcome):
        return
    with session_scope(context.engine) as session:
        set_content_digest(session, name=snapshot.name, digest=digest)
    outcome.etag, outcome.last_modified = fetched.etag, fetched.last_modified
    outcome.validators = True


def plan_list(
    snapshot: Snapshot,
    items: dict[bytes, Item],
    listed: dict[bytes, str] | None,
    *,
    now_us: int,
    refresh_us: int,
    republish: bool,
) -> list[Change]:
    """The items to write (``listed`` None: the list is unchanged, as a 304 says)."""
    now = now_us // 1000 * 1000  # STIX timestamps in milliseconds
    if listed is None:
        listed = {digest: item.key for digest, item in items.items() if item.active}
    changes: list[Change] = []
    for digest, key in listed.items():
        item = items.get(digest)
        if item is None or not item.active:
            generation = 0 if item is None else item.generation + 1
            object_id = snapshot.author.object_id(key, generation)
            changes.append((digest, Item(key, object_id, generation, now, now, True)))
        elif republish or item.version_us <= now_us - refresh_us:
            changes.append((digest, _next_version(item, now, active=True)))
    for digest, item in items.items():
        if item.active and digest not in listed:
            changes.append((digest, _next_version(item, now, active=False)))
    return changes


def _next_version(item: Item, now: int, *, active: bool) -> Item:
    version = max(now, item.version_us + 1000)
    return Item(item.key, item.object_id, item.generation, item.created_us, version, active)


def _write(
    context: PullContext,
    snapshot: Snapshot,
    definition: FeedDefinition,
    changes: Sequence[Change],
    outcome: Outcome,
) -> bool:
    """Ingest the changes in batches; False if the pull had to stop before the end."""
    for start in range(0, len(changes), context.batch_size):
        if start and not keep_going(context, outcome):
            return False
        batch = changes[start : start + context.batch_size]
        objects = [
            snapshot.author.list_indicator(
                item.key,
                object_id=item.object_id,
                created_us=item.created_us,
                modified_us=item.version_us,
                revoked=not item.active,
            )
            for _, item in batch
        ]
        with session_scope(context.engine) as session:
            ingested = ingest(session, context, snapshot, definition, objects)
            done = {d: item for d, item in batch if item.object_id in ingested.accepted}
            save_items(session, snapshot.feed_id, done)
        note_refusals(outcome, ingested)
        outcome.added += sum(1 for item in done.values() if item.active)
        outcome.withdrawn += sum(1 for item in done.values() if not item.active)
    return True
