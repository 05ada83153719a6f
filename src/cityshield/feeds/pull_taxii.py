"""Pulling a TAXII 2.1 collection (``taxii21``) or another cityshield hub's ``network``
collection (``cityshield``), incrementally.

- **Cursor.** A pull asks for what was added after the feed's cursor, and follows ``next``
  to the end at once (not one page per interval). The new cursor is the last page's
  ``X-TAXII-Date-Added-Last``, stored only once the pull reached the end. A pull that
  stops early (the worker stops, an error) stores the last *safe* point instead: the
  ``date_added`` of a page whose successor starts strictly later, so that the objects
  sharing a ``date_added`` across a page boundary are never skipped.
- **Repeats.** An upstream version the feed already holds (same id, same or older
  ``modified``) is skipped: a server that treats ``added_after`` as inclusive, or a pull
  resumed from a safe point, repeats objects, and nothing is written twice.
- **What is kept.** Indicators with STIX patterns, each as the feed's own copy
  (``feeds/authoring.py``); other objects are not the network's business and are
  skipped. For a member's own server (``member:``) every object goes in as it is, as that
  member's, and must carry that member's signature.
- **Another hub.** Each object is checked against that hub's JWKS before anything else; a
  bad or unknown signature, or a revoked key, refuses the object (counted, described).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from cityshield.client.errors import HubClientError
from cityshield.client.jwks import fetch_jwks, jwks_url, usable_keys
from cityshield.client.pull import CollectionReader, Page
from cityshield.client.verify import check_object
from cityshield.db import session_scope
from cityshield.feeds.definition import FeedDefinition
from cityshield.feeds.errors import FeedPullError
from cityshield.feeds.fetch import credentials
from cityshield.feeds.items import Item, items_for, save_items
from cityshield.feeds.lists import key_digest
from cityshield.feeds.pull import PullContext, Snapshot, ingest, keep_going, note_refusals
from cityshield.feeds.state import Outcome, save_cursor
from cityshield.signing.errors import SignatureError
from cityshield.stix.vocabulary import version_stamp
from cityshield.timefmt import parse_timestamp

JSONObject = dict[str, Any]
NETWORK_COLLECTION = "network"


def pull_taxii(
    context: PullContext, snapshot: Snapshot, definition: FeedDefinition, outcome: Outcome
) -> None:
    secret = credentials(definition.auth)
    jwks: dict[str, JSONObject] | None = None
    try:
        if definition.kind == "cityshield":
            url = jwks_url(definition.url)
            jwks = usable_keys(fetch_jwks(url), source=url)
        with CollectionReader(
            api_root=definition.url,
            collection=definition.collection or NETWORK_COLLECTION,
            auth=secret.auth,
            headers=secret.headers,
            timeout_s=definition.timeout,
            page_size=definition.page_size,
        ) as reader:
            objects_url = reader.objects_url()
            cursor = _read(
                context,
                snapshot,
                definition,
                reader.pages(objects_url, added_after=snapshot.cursor),
                jwks,
                outcome,
            )
    except HubClientError as exc:
        raise FeedPullError(exc.description) from exc
    if cursor is not None:
        outcome.cursor, outcome.validators = cursor, True


def _read(
    context: PullContext,
    snapshot: Snapshot,
    definition: FeedDefinition,
    pages: Iterator[Page],
    jwks: dict[str, JSONObject] | None,
    outcome: Outcome,
) -> str | None:
    """Take every page; the new cursor, or None if the pull stopped early (the safe
    point reached is then saved)."""
    safe, last = snapshot.cursor, None
    try:
        for page in pages:
            if last is not None and page.first is not None and _later(page.first, last):
                safe = last  # nothing at ``last``'s date_added can follow
            _take(context, snapshot, definition, page.objects, jwks, outcome)
            last = page.last or page.first or last
            if page.more and not keep_going(context, outcome):
                _save(context, snapshot, safe)
                return None
    except (HubClientError, FeedPullError):
        _save(context, snapshot, safe)
        raise
    return last if last is not None else snapshot.cursor


def _save(context: PullContext, snapshot: Snapshot, cursor: str | None) -> None:
    with session_scope(context.engine) as session:
        save_cursor(session, name=snapshot.name, cursor=cursor)


def _later(a: str, b: str) -> bool:
    try:
        return parse_timestamp(a) > parse_timestamp(b)
    except ValueError:
        return a > b


def _take(
    context: PullContext,
    snapshot: Snapshot,
    definition: FeedDefinition,
    objects: list[JSONObject],
    jwks: dict[str, JSONObject] | None,
    outcome: Outcome,
) -> None:
    """One page: keep what is new, make the feed's objects, ingest them."""
    wanted: dict[bytes, tuple[JSONObject, str, int]] = {}
    for obj in objects:
        if definition.member is None and not _indicator(obj):
            continue
        if jwks is not None:
            checked = check_object(obj, jwks, allow_revoked=False, now=time.time())
            if not checked["ok"]:
                outcome.rejected += 1
                outcome.note(f"{obj.get('id')}: signature refused: {checked['reason']}")
                continue
        upstream_id = str(obj.get("id"))
        version = _version_us(obj)
        digest = key_digest(upstream_id)
        if digest not in wanted or wanted[digest][2] < version:
            wanted[digest] = (obj, upstream_id, version)
    if not wanted:
        return
    with session_scope(context.engine) as session:
        held = items_for(session, snapshot.feed_id, wanted)
    fresh = {
        d: entry for d, entry in wanted.items() if d not in held or held[d].version_us < entry[2]
    }
    if not fresh:
        return
    built: dict[bytes, JSONObject] = {}
    for d, (obj, upstream_id, _) in list(fresh.items()):
        try:
            built[d] = obj if definition.member else snapshot.author.upstream_indicator(obj)
        except SignatureError as exc:  # no canonical form (a value JSON cannot sign)
            outcome.rejected += 1
            outcome.note(f"{upstream_id}: cannot be signed: {exc.description}")
            del fresh[d]
    with session_scope(context.engine) as session:
        ingested = ingest(session, context, snapshot, definition, list(built.values()))
        done = {
            d: Item(upstream_id, built[d]["id"], 0, version, version, not obj.get("revoked"))
            for d, (obj, upstream_id, version) in fresh.items()
            if built[d].get("id") in ingested.accepted
        }
        save_items(session, snapshot.feed_id, done)
    note_refusals(outcome, ingested)
    outcome.added += sum(1 for item in done.values() if item.active)
    outcome.withdrawn += sum(1 for item in done.values() if not item.active)


def _indicator(obj: JSONObject) -> bool:
    return obj.get("type") == "indicator" and obj.get("pattern_type") == "stix"


def _version_us(obj: JSONObject) -> int:
    stamp = version_stamp(obj)
    try:
        return parse_timestamp(stamp) if isinstance(stamp, str) else 0
    except ValueError:
        return 0
