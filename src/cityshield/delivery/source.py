"""What a push target is due: what its member may read in the target's view, after the
target's cursor, that no receipt covers.

The rows come from ``policy.visible_objects`` for the member, the base query of every
TAXII read, over ``policy.object_source`` (the member's own network views, or the stored
objects): what a target receives is what a ``GET …/objects/?match[version]=all&
added_after=CURSOR`` by that member returns, in the same ``date_added`` order, so it can
depend on nothing the member may not see (noninterference) and a narrower policy can
never send an object the member may no longer read: nothing was queued.

The cursor alone cannot see what becomes visible with an old ``date_added`` (a wider
policy, a lifted quarantine in an ordinary collection); :func:`scope_digest` changes
then, and the target rescans its view from the start, the receipts skipping what it
already has. Network views need no rescan: the publisher gives a view that changes a new
``date_added``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Select, exists, func, select
from sqlmodel import Session, col

from cityshield.dedup.models import NetworkView
from cityshield.dedup.publish import CORROBORATION_EXTENSION_ID
from cityshield.delivery.models import DeliveryReceipt, UrgentMark
from cityshield.members.caller import Caller
from cityshield.policy import service as policy
from cityshield.policy.active import policy_fingerprint
from cityshield.signing.models import SigningKey
from cityshield.store.models import Collection, StixObject


@dataclass(frozen=True)
class DueItem:
    object_id: str
    version_us: int
    added_us: int
    body: str


@dataclass(frozen=True)
class Batch:
    """Due items in ``date_added`` order, and the cursor once every one is handled:
    everything up to ``end_us`` is then delivered, refused or not for this target."""

    items: list[DueItem]
    end_us: int
    more: bool


def high_water(session: Session, *, caller: Caller, collection: Collection) -> int:
    """The highest ``date_added`` in the member's view: every row at or below it has
    committed (writers of a collection, and the publisher of views, commit in
    ``date_added`` order), so a cursor moved up to it can skip nothing that commits later.
    """
    if policy.object_source(caller, collection) is NetworkView:
        value = session.execute(
            select(func.max(col(NetworkView.date_added_us))).where(
                col(NetworkView.member_id) == caller.member_id
            )
        ).scalar_one()
    else:
        value = session.execute(
            select(col(Collection.last_added_us)).where(col(Collection.id) == collection.id)
        ).scalar_one()
    return int(value or 0)


_ITEM_COLUMNS = (
    StixObject.object_id,
    StixObject.version_us,
    StixObject.date_added_us,
    StixObject.body,
)
"""What a due item is read as (:class:`DueItem`), in the view's own columns (``_due``)."""


def _due(
    caller: Caller, collection: Collection, target_id: int, after_us: int, *columns: Any
) -> tuple[Select[Any], Any]:
    source = policy.object_source(caller, collection)
    receipted = exists().where(
        col(DeliveryReceipt.target_id) == target_id,
        col(DeliveryReceipt.object_id) == source.object_id,
        col(DeliveryReceipt.version_us) == source.version_us,
    )
    query = policy.visible_objects(caller, collection, *columns).where(
        source.date_added_us > after_us, ~receipted
    )
    return query, source


def read_batch(
    session: Session,
    *,
    caller: Caller,
    collection: Collection,
    target_id: int,
    after_us: int,
    limit: int,
) -> Batch:
    """The next due items after ``after_us``, at most ``limit``, and no object twice (two
    versions of one object go in consecutive batches: a receiver's status names objects by
    id, and the answer for one version must not be taken for the other's)."""
    top = high_water(session, caller=caller, collection=collection)
    query, source = _due(
        caller,
        collection,
        target_id,
        after_us,
        *_ITEM_COLUMNS,
    )
    rows = session.execute(
        query.where(source.date_added_us <= top).order_by(source.date_added_us).limit(limit + 1)
    ).all()
    items: list[DueItem] = []
    ids: set[str] = set()
    for object_id, version_us, added_us, body in rows[:limit]:
        if object_id in ids:
            return Batch(items, items[-1].added_us, more=True)
        ids.add(object_id)
        items.append(DueItem(object_id, version_us, added_us, body))
    if len(rows) > limit:
        return Batch(items, items[-1].added_us, more=True)
    return Batch(items, max(top, after_us), more=False)


def read_urgent(
    session: Session,
    *,
    caller: Caller,
    collection: Collection,
    target_id: int,
    after_us: int,
    limit: int,
) -> Batch:
    """The due items that are urgent in the member's own eyes, ahead of the cursor's order:
    a network view an urgent report it may see counts in (``NetworkView.urgent``, set by
    the publisher from only those reports), or an original whose urgent mark was honoured.
    The cursor stays where it is (``end_us == after_us``); the receipts keep the ordinary
    scan from sending them again."""
    source = policy.object_source(caller, collection)
    if source is NetworkView:
        urgent: Any = NetworkView.urgent
    else:
        urgent = exists().where(col(UrgentMark.stix_pk) == StixObject.pk, col(UrgentMark.granted))
    query, source = _due(
        caller,
        collection,
        target_id,
        after_us,
        *_ITEM_COLUMNS,
    )
    rows = session.execute(query.where(urgent).order_by(source.date_added_us).limit(limit)).all()
    items: list[DueItem] = []
    ids: set[str] = set()
    for object_id, version_us, added_us, body in rows:
        if object_id not in ids:  # one version of an object per batch (see read_batch)
            ids.add(object_id)
            items.append(DueItem(object_id, version_us, added_us, body))
    return Batch(items, after_us, more=True)


def is_urgent(item: DueItem) -> bool:
    """Whether a network indicator says it is urgent (its corroboration extension)."""
    return _corroboration(item).get("urgent") is True


def lag(
    session: Session,
    *,
    caller: Caller,
    collection: Collection,
    target_id: int,
    after_us: int,
    cap: int,
) -> tuple[int, bool, int | None]:
    """(how many objects are due, whether there are at least ``cap``, the oldest one's
    ``date_added``): counted over the same rows delivery reads, at most ``cap`` of them."""
    query, source = _due(caller, collection, target_id, after_us, StixObject.date_added_us)
    first = query.order_by(source.date_added_us).limit(cap).subquery()
    count, oldest = session.execute(
        select(func.count(), func.min(first.c[0])).select_from(first)
    ).one()
    return int(count), int(count) >= cap, oldest


def member_count(item: DueItem) -> int:
    """How many members corroborate a network indicator, as its member sees it (0 when
    the body has no corroboration extension)."""
    count = _corroboration(item).get("member_count")
    return count if isinstance(count, int) else 0


def _corroboration(item: DueItem) -> dict[str, Any]:
    body = orjson.loads(item.body)
    extension = (body.get("extensions") or {}).get(CORROBORATION_EXTENSION_ID) or {}
    return extension if isinstance(extension, dict) else {}


def scope_digest(session: Session, caller: Caller) -> str:
    """A digest of everything besides new rows that decides what ``caller`` may read: the
    policy, its role and groups, and which keys' objects are quarantined since when. When
    it changes, visibility may have widened over old rows."""
    quarantined = session.execute(
        select(col(SigningKey.kid), col(SigningKey.compromised_since_us))
        .where(col(SigningKey.compromised_since_us).is_not(None))
        .order_by(col(SigningKey.kid))
    ).all()
    facts = [
        policy_fingerprint(session),
        caller.role,
        sorted(caller.groups),
        caller.default_marking,
        [list(row) for row in quarantined],
    ]
    return hashlib.sha256(orjson.dumps(facts)).hexdigest()[:32]
