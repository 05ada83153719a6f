"""Per-member network views: each member's network indicator of an IOC, built from the
reports that member may see, and given a new version only when that view changes.

The network-wide version of an IOC changes whenever *any* report of it does, including
reports a member may not see, so serving it (or a variant of it) to that member would tell
it that something it may not see happened: its ``modified`` and ``date_added`` move, its
version list grows, its ``created`` is a hidden report's time. A view instead keeps, per
member, a digest of everything its body says except timestamps; a publication that leaves
the digest as it was writes nothing for that member. Its ``created`` is when that member
first saw the IOC, its ``modified`` and ``date_added`` when its view last changed, its id
counts only the revocations that member saw.

Members whose views are equal in a publication share one signature. Views are planned
(read and built, :func:`plan_views`) apart from being saved (:func:`save_views`), so the
publisher can build from a snapshot and write in a short transaction
(``dedup.publisher``); ``date_added`` is given only when saving, under the network lock.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from typing import Any

import orjson
from sqlalchemy import bindparam, select, update
from sqlmodel import Session, col

from cityshield.bulk import chunks, insert_rows
from cityshield.dedup.aggregate import Corroboration, corroborate
from cityshield.dedup.hub_context import HubContext
from cityshield.dedup.iocs import IOCRow
from cityshield.dedup.models import NetworkIOC, NetworkView, ViewPending
from cityshield.dedup.publish import Subject, build_network_indicator, network_indicator_id
from cityshield.members.caller import FEED_ROLE, Caller
from cityshield.members.service import caller_for
from cityshield.policy import service as policy
from cityshield.policy.service import VIEW_HIDDEN as HIDDEN
from cityshield.store.models import Member

_VIEWS = NetworkView.__table__  # type: ignore[attr-defined]
_CHANGING = (
    "object_id",
    "generation",
    "digest",
    "state",
    "created_us",
    "version_us",
    "date_added_us",
    "urgent",
    "body",
)


@dataclass(frozen=True)
class _Face:
    """What a view's body is built from, timestamps aside."""

    indicator_key: str
    pattern: str
    value: str | None
    observable_type: str
    benign_reason: str | None
    summary: Corroboration

    def digest(self) -> bytes:
        fields = [getattr(self.summary, name) for name in _SUMMARY_FIELDS]  # astuple deep-copies
        if self.summary.urgent:  # only then: views stored before urgency keep their digest
            fields.append(True)
        if self.summary.feed_count:  # likewise for views stored before feeds
            fields.append([self.summary.feed_count, list(self.summary.feed_refs)])
        return hashlib.sha256(
            orjson.dumps(
                [
                    self.indicator_key,
                    self.pattern,
                    self.value,
                    self.observable_type,
                    self.benign_reason,
                    list(fields),
                ]
            )
        ).digest()[:16]


_LATER_FIELDS = ("urgent", "feed_count", "feed_refs")
_SUMMARY_FIELDS = tuple(
    f.name for f in dataclass_fields(Corroboration) if f.name not in _LATER_FIELDS
)


@dataclass
class ViewChanges:
    """Members' view rows to write: ``changed`` rows (new or updated, in the order their
    ``date_added`` will be given) and views to hide."""

    changed: list[dict[str, Any]] = field(default_factory=list)
    hidden: list[dict[str, Any]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.changed) + len(self.hidden)


@dataclass(frozen=True)
class PendingViews:
    """Part of a member's views still to be built from scratch: these IOCs, then the
    queue row moves on to ``next_ioc_id`` (None: this member is done)."""

    member_id: int
    ioc_ids: list[int]
    next_ioc_id: int | None


def viewers(session: Session) -> list[Caller]:
    """Every member: each reads the network through its own views (an admin's view counts
    every report that is not quarantined or restricted). Feeds' principals never read."""
    members = session.execute(
        select(Member)
        .where(col(Member.active), col(Member.role) != FEED_ROLE)
        .order_by(col(Member.id))
    ).scalars()
    return [caller_for(session, member) for member in members]


def plan_views(
    session: Session,
    *,
    context: HubContext,
    wanted: Sequence[tuple[Caller, Sequence[IOCRow]]],
    counted: Counted,
    now_us: int,
) -> ViewChanges:
    """Read and build what brings each caller's views of its IOCs up to date; writes
    nothing (see :func:`save_views`). ``counted``: the IOCs' contributions that count for
    anyone (read once for every caller; each caller's share is decided by
    ``policy.Reader``)."""
    stamp = now_us // 1000 * 1000
    signed: dict[tuple[Any, ...], str] = {}
    aggregates: dict[tuple[Any, ...], tuple[Corroboration, bytes]] = {}
    changes = ViewChanges()
    current = _current(
        session,
        [caller.member_id for caller, iocs in wanted if iocs],
        sorted({ioc.id for _, iocs in wanted for ioc in iocs}),
    )
    for caller, iocs in wanted:
        if caller.default_marking != counted.default_marking:
            raise ValueError("views must be built under the policy the rows were counted by")
        reader = policy.Reader.of(caller)
        for ioc in {ioc.id: ioc for ioc in iocs}.values():
            ioc_id = ioc.id
            rows = counted.visible(reader, ioc_id)
            before = current.get((caller.member_id, ioc_id))
            if not rows:
                # Nothing of it is visible any more (a narrower policy, a quarantine, a
                # deleted report): the member no longer hears of the IOC at all. The row
                # stays, hidden, so that if it comes back it comes back as a new indicator
                # rather than one whose created changed. (A revoked report is still
                # visible and makes a revoked view.)
                if before is not None and before["state"] != HIDDEN:
                    changes.hidden.append({"m": caller.member_id, "i": ioc_id})
                continue
            # Members who see the same rows get the same aggregate: compute it once a pass.
            seen_key = (ioc_id, caller.default_marking, tuple(sorted(row.id for row in rows)))
            computed = aggregates.get(seen_key)
            if computed is None:
                summary = corroborate(
                    rows,
                    lifetime_us=context.lifetime_us(ioc.observable_type),
                    now_us=now_us,
                    default_marking=caller.default_marking,
                )
                face = _Face(
                    ioc.key, ioc.pattern, ioc.value, ioc.observable_type, ioc.benign_reason, summary
                )
                computed = aggregates[seen_key] = (summary, face.digest())
            summary, digest = computed
            if before is not None and before["digest"] == digest:
                continue
            view = _next_view(before, ioc, summary, digest, stamp)
            cache_key = (ioc_id, digest, view["object_id"], view["created_us"], view["version_us"])
            body = signed.get(cache_key)
            if body is None:
                subject = Subject(
                    view["object_id"],
                    ioc.key,
                    ioc.pattern,
                    ioc.observable_type,
                    ioc.value,
                    view["created_us"],
                    ioc.benign_reason,
                )
                body = orjson.dumps(
                    build_network_indicator(
                        subject, summary, context=context, modified_us=view["version_us"]
                    )
                ).decode()
                signed[cache_key] = body
            view.update(m=caller.member_id, i=ioc_id, body=body, new=before is None)
            changes.changed.append(view)
    return changes


def _next_view(
    before: dict[str, Any] | None,
    ioc: IOCRow,
    summary: Corroboration,
    digest: bytes,
    stamp: int,
) -> dict[str, Any]:
    """The view's identity and timestamps after a change: a view revoked or hidden (in
    this member's eyes) that becomes active again is a new indicator, since STIX forbids
    un-revoking and a ``created`` may not change."""
    if before is None:
        generation, created, version = 0, stamp, stamp
    elif before["state"] != "active" and summary.state == "active":
        generation, created, version = before["generation"] + 1, stamp, stamp
    else:
        generation, created = before["generation"], before["created_us"]
        version = max(stamp, before["version_us"] + 1000)
    same_id = before is not None and generation == before["generation"]
    return {
        "object_id": before["object_id"]
        if before is not None and same_id
        else network_indicator_id(ioc.key, generation),
        "generation": generation,
        "digest": digest,
        "state": summary.state,
        "created_us": created,
        "version_us": version,
        "urgent": summary.urgent,
    }


@dataclass
class Counted:
    """Contributions that count for anyone (``policy.counted_for_readers``) by IOC, and
    their originals' audience rows, read once a pass for every member's views."""

    default_marking: str
    rows: dict[int, list[Any]] = field(default_factory=dict)
    audiences: dict[int, list[tuple[str, bool]]] = field(default_factory=dict)

    @classmethod
    def read(cls, session: Session, ioc_ids: Sequence[int], default_marking: str) -> Counted:
        counted = cls(default_marking)
        for chunk in chunks(sorted(set(ioc_ids))):
            query = policy.counted_for_readers(list(chunk), default_marking=default_marking)
            for row in session.connection().execute(query).all():  # not fetchone per row
                counted.rows.setdefault(row.ioc_id, []).append(row)
        pks = [row.stix_pk for rows in counted.rows.values() for row in rows]
        counted.audiences = policy.audiences_of(session, pks)
        return counted

    def visible(self, reader: policy.Reader, ioc_id: int) -> list[Any]:
        """The IOC's contributions that count for ``reader``."""
        return [
            row
            for row in self.rows.get(ioc_id, ())
            if reader.may_read(row.original_submitter_id, self.audiences.get(row.stix_pk, ()))
        ]


def _current(
    session: Session, member_ids: list[int], ioc_ids: list[int]
) -> dict[tuple[int, int], dict[str, Any]]:
    """The stored views of these members for these IOCs, by (member, IOC): one probe of
    the primary key per pair, a chunk of IOCs at a time for every member at once."""
    found: dict[tuple[int, int], dict[str, Any]] = {}
    names = [name for name in _CHANGING if name != "body"]
    columns = [_VIEWS.c.member_id, _VIEWS.c.ioc_id, *(_VIEWS.c[name] for name in names)]
    for chunk in chunks(ioc_ids):
        query = select(*columns).where(
            _VIEWS.c.member_id.in_(member_ids), _VIEWS.c.ioc_id.in_(chunk)
        )
        for row in session.connection().execute(query).all():
            found[(row[0], row[1])] = dict(zip(names, row[2:], strict=True))
    return found


def save_views(session: Session, changes: ViewChanges, *, now_us: int) -> int:
    """Write planned view changes (the caller holds the network lock); returns how many
    were written. Each member's changed views get ``date_added`` values after its newest
    one, so its views' ``date_added`` strictly increase and keyset pages over them never
    skip or repeat. Views of members removed since the plan are dropped."""
    added = _next_date_added(
        session, {row["m"] for row in (*changes.changed, *changes.hidden)}, now_us
    )
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for row in changes.changed:
        member_id = row["m"]
        if member_id not in added:
            continue
        row["date_added_us"] = added[member_id]
        added[member_id] += 1
        if row["new"]:
            inserts.append(
                {
                    "member_id": member_id,
                    "ioc_id": row["i"],
                    **{name: row[name] for name in _CHANGING},
                    "type": "indicator",
                    "spec_version": "2.1",
                    "is_first": True,
                    "is_latest": True,
                }
            )
        else:
            updates.append(row)
    hidden: list[dict[str, Any]] = []
    for row in changes.hidden:
        if row["m"] in added:
            hidden.append({**row, "d": added[row["m"]]})
            added[row["m"]] += 1
    if inserts:
        insert_rows(session, _VIEWS, inserts)
    where = (_VIEWS.c.member_id == bindparam("m"), _VIEWS.c.ioc_id == bindparam("i"))
    if updates:
        changing: dict[str, Any] = {name: bindparam(name) for name in _CHANGING}
        session.connection().execute(update(_VIEWS).where(*where).values(changing), updates)
    if hidden:
        # A hidden view moves to the member's newest date_added (its body stays, never
        # served): readers that follow a member's views incrementally (export deltas,
        # docs/exports.md) learn that the IOC left its view.
        values = {"state": HIDDEN, "digest": b"", "date_added_us": bindparam("d")}
        session.connection().execute(update(_VIEWS).where(*where).values(values), hidden)
    return len(inserts) + len(updates) + len(hidden)


def _next_date_added(session: Session, member_ids: set[int], now_us: int) -> dict[int, int]:
    """The first ``date_added`` each (still existing) member's next view gets: after its
    newest view, and not before ``now_us``. One query, a max per member from the
    ``(member_id, date_added)`` index."""
    newest = (
        select(col(NetworkView.date_added_us))
        .where(col(NetworkView.member_id) == col(Member.id))
        .order_by(col(NetworkView.date_added_us).desc())
        .limit(1)
        .scalar_subquery()
    )
    found: dict[int, int] = {}
    for chunk in chunks(sorted(member_ids)):
        query = select(col(Member.id), newest).where(col(Member.id).in_(chunk))
        for member_id, high_water in session.execute(query):
            found[member_id] = max(now_us, (high_water or 0) + 1)
    return found


def pending_views(session: Session, *, budget: int = 5000) -> list[PendingViews]:
    """The views to build for queued members this pass, at most ``budget`` IOCs in all (a
    member joining a large hub must not stall publication)."""
    work: list[PendingViews] = []
    done = 0
    for member_id, next_ioc_id in session.execute(
        select(col(ViewPending.member_id), col(ViewPending.next_ioc_id)).order_by(
            col(ViewPending.member_id)
        )
    ).all():
        limit = budget - done
        ids = list(
            session.execute(
                select(col(NetworkIOC.id))
                .where(col(NetworkIOC.id) >= next_ioc_id)
                .order_by(col(NetworkIOC.id))
                .limit(limit)
            ).scalars()
        )
        work.append(PendingViews(member_id, ids, ids[-1] + 1 if len(ids) == limit else None))
        done += len(ids)
        if done >= budget:
            break
    return work


def save_pending_views(session: Session, work: Sequence[PendingViews]) -> None:
    """Record how far each member's views were built; a finished member leaves the queue."""
    for item in work:
        row = session.get(ViewPending, item.member_id)
        if row is None:
            continue  # the member was removed meanwhile
        if item.next_ioc_id is None:
            session.delete(row)
        else:
            row.next_ioc_id = item.next_ioc_id
            session.add(row)
    session.flush()
