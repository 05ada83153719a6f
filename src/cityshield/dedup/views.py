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

Members whose views are equal in a publication share one signature.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from typing import Any

import orjson
from sqlalchemy import bindparam, func, select, update
from sqlmodel import Session, col

from cityshield.bulk import chunks, insert_rows
from cityshield.dedup.aggregate import Corroboration, corroborate
from cityshield.dedup.hub_context import HubContext
from cityshield.dedup.models import NetworkIOC, NetworkView, ViewPending
from cityshield.dedup.publish import build_network_indicator, network_indicator_id
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
class _Published:
    """The subset of NetworkIOC fields build_network_indicator reads, for one viewer."""

    indicator_id: str
    key: str
    pattern: str
    observable_type: str
    value: str | None
    created_us: int
    benign_reason: str | None


def viewers(session: Session) -> list[Caller]:
    """Every member: each reads the network through its own views (an admin's view counts
    every report that is not quarantined or restricted). Feeds' principals never read."""
    members = session.execute(
        select(Member)
        .where(col(Member.active), col(Member.role) != FEED_ROLE)
        .order_by(col(Member.id))
    ).scalars()
    return [caller_for(session, member) for member in members]


def publish_views(
    session: Session,
    *,
    context: HubContext,
    iocs: Sequence[NetworkIOC],
    now_us: int,
    callers: list[Caller] | None = None,
) -> int:
    """Bring every member's view of these IOCs up to date; returns how many views changed."""
    if not iocs:
        return 0
    callers = viewers(session) if callers is None else callers
    by_id = {ioc.id: ioc for ioc in iocs if ioc.id is not None}
    stamp = now_us // 1000 * 1000
    signed: dict[tuple[Any, ...], str] = {}
    aggregates: dict[tuple[Any, ...], tuple[Corroboration, bytes]] = {}
    changed = 0
    for caller in callers:
        visible = _visible(session, caller, list(by_id))
        current = _current(session, caller.member_id, list(by_id))
        added_us = max(now_us, _high_water(session, caller.member_id) + 1)
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        hidden: list[dict[str, Any]] = []
        for ioc_id, ioc in by_id.items():
            rows = visible.get(ioc_id, [])
            before = current.get(ioc_id)
            if not rows:
                # Nothing of it is visible any more (a narrower policy, a quarantine, a
                # deleted report): the member no longer hears of the IOC at all. The row
                # stays, hidden, so that if it comes back it comes back as a new indicator
                # rather than one whose created changed. (A revoked report is still
                # visible and makes a revoked view.)
                if before is not None and before["state"] != HIDDEN:
                    hidden.append({"m": caller.member_id, "i": ioc_id, "d": added_us})
                    added_us += 1
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
            view["date_added_us"] = added_us
            added_us += 1
            cache_key = (ioc_id, digest, view["object_id"], view["created_us"], view["version_us"])
            body = signed.get(cache_key)
            if body is None:
                published = _Published(
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
                        published,  # type: ignore[arg-type]
                        summary,
                        context=context,
                        modified_us=view["version_us"],
                    )
                ).decode()
                signed[cache_key] = body
            view["body"] = body
            if before is None:
                inserts.append(
                    {
                        "member_id": caller.member_id,
                        "ioc_id": ioc_id,
                        **view,
                        "type": "indicator",
                        "spec_version": "2.1",
                        "is_first": True,
                        "is_latest": True,
                    }
                )
            else:
                updates.append({"m": caller.member_id, "i": ioc_id, **view})
        _save(session, caller.member_id, inserts, updates, hidden)
        changed += len(inserts) + len(updates) + len(hidden)
    return changed


def _next_view(
    before: dict[str, Any] | None,
    ioc: NetworkIOC,
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


def _visible(session: Session, caller: Caller, ioc_ids: list[int]) -> dict[int, list[Any]]:
    found: dict[int, list[Any]] = {}
    for chunk in chunks(ioc_ids):
        for row in session.execute(policy.counted_contributions(list(chunk), caller)):
            found.setdefault(row.ioc_id, []).append(row)
    return found


def _current(session: Session, member_id: int, ioc_ids: list[int]) -> dict[int, dict[str, Any]]:
    found: dict[int, dict[str, Any]] = {}
    columns = [_VIEWS.c.ioc_id, *(_VIEWS.c[name] for name in _CHANGING if name != "body")]
    for chunk in chunks(ioc_ids):
        query = select(*columns).where(_VIEWS.c.member_id == member_id, _VIEWS.c.ioc_id.in_(chunk))
        for row in session.execute(query).mappings():
            found[row["ioc_id"]] = dict(row)
    return found


def _high_water(session: Session, member_id: int) -> int:
    """The member's latest view date_added: its views' date_added strictly increase, so
    keyset pages over them never skip or repeat (the publisher holds the network lock)."""
    value = session.execute(
        select(func.max(_VIEWS.c.date_added_us)).where(_VIEWS.c.member_id == member_id)
    ).scalar_one()
    return int(value or 0)


def _save(
    session: Session,
    member_id: int,
    inserts: list[dict[str, Any]],
    updates: list[dict[str, Any]],
    hidden: list[dict[str, Any]],
) -> None:
    if inserts:
        insert_rows(session, _VIEWS, inserts)
    if updates:
        statement = (
            update(_VIEWS)
            .where(_VIEWS.c.member_id == bindparam("m"), _VIEWS.c.ioc_id == bindparam("i"))
            .values({name: bindparam(name) for name in _CHANGING})
        )
        session.connection().execute(statement, updates)
    if hidden:
        # A hidden view moves to the member's newest date_added (its body stays, never
        # served): readers that follow a member's views incrementally (export deltas,
        # docs/exports.md) learn that the IOC left its view.
        statement = (
            update(_VIEWS)
            .where(_VIEWS.c.member_id == bindparam("m"), _VIEWS.c.ioc_id == bindparam("i"))
            .values(state=HIDDEN, digest=b"", date_added_us=bindparam("d"))
        )
        session.connection().execute(statement, hidden)


def build_pending_views(
    session: Session, *, context: HubContext, now_us: int, budget: int = 5000
) -> int:
    """Build views for queued members, at most ``budget`` IOCs a pass (the caller holds
    the network lock: a member joining a large hub must not stall publication); returns
    how many IOCs were gone through, 0 when no member is waiting."""
    done = 0
    for pending in session.execute(
        select(ViewPending).order_by(col(ViewPending.member_id))
    ).scalars():
        member = session.get(Member, pending.member_id)
        limit = budget - done
        ids = list(
            session.execute(
                select(col(NetworkIOC.id))
                .where(col(NetworkIOC.id) >= pending.next_ioc_id)
                .order_by(col(NetworkIOC.id))
                .limit(limit)
            ).scalars()
        )
        if member is not None and ids:
            iocs = session.execute(select(NetworkIOC).where(col(NetworkIOC.id).in_(ids))).scalars()
            publish_views(
                session,
                context=context,
                iocs=list(iocs),
                now_us=now_us,
                callers=[caller_for(session, member)],
            )
        done += len(ids)
        if len(ids) < limit:
            session.delete(pending)  # finished
        else:
            pending.next_ioc_id = ids[-1] + 1
            session.add(pending)
        if done >= budget:
            break
    session.flush()
    return done
