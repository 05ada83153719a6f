"""The crisis fast path: which urgent marks the hub honours (docs/urgent-and-webhooks.md).

A city marks an object urgent with the top-level custom property ``x_cityshield_urgent:
true``. It is part of the object, so the member's signature covers it (the signing input
is the whole object but the signature entry) and nobody between the city and the hub, nor
a member relaying it, can add or strip it unseen. The hub honours a mark only

- on objects submitted to ``submissions`` (what feeds the network view and is pushed),
- from a member an admin has not denied it (``member urgent NAME --no-allow``),
- within the member's hourly limit: at most ``per_hour`` honoured marks in the last 60
  minutes (``CITYSHIELD_URGENT_PER_HOUR``, or the member's own number).

A mark that is not honoured never costs the object: it is stored and handled like any
other, and its entry in the status resource says why (``message``). Every mark is kept
(``urgent_mark``) with its outcome, for the limit and for operators.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from cityshield.delivery.models import UrgentMark, UrgentSetting
from cityshield.members.service import get_member_or_raise
from cityshield.policy.anonymity import republished_id
from cityshield.store.writer import Written, describe
from cityshield.timefmt import format_timestamp

URGENT_PROPERTY = "x_cityshield_urgent"
HOUR_US = 3600 * 1_000_000
HONOURED = "urgent: published at once and delivered ahead of everything queued"
NOT_HONOURED = "accepted, but not treated as urgent: "


def is_marked(obj: Any) -> bool:
    """Whether the object asks to be urgent (the JSON value ``true``, nothing looser)."""
    return isinstance(obj, dict) and obj.get(URGENT_PROPERTY) is True


URGENT_TYPES = frozenset({"indicator", "sighting"})
"""What ``submit --urgent`` marks: what feeds the network view (and its fast path)."""


def mark_urgent(obj: dict[str, Any]) -> dict[str, Any]:
    """The object with ``x_cityshield_urgent: true`` if it is an indicator or sighting (to
    be signed after: the mark is part of the signed content)."""
    if obj.get("type") not in URGENT_TYPES:
        return obj
    return {**obj, URGENT_PROPERTY: True}


@dataclass(frozen=True)
class UrgentPolicy:
    """What a member may do with urgent marks; ``custom`` when an admin set it."""

    allowed: bool
    per_hour: int
    custom: bool = False


def urgent_policy(session: Session, *, member_id: int, default_per_hour: int) -> UrgentPolicy:
    row = session.get(UrgentSetting, member_id)
    if row is None:
        return UrgentPolicy(True, default_per_hour)
    per_hour = default_per_hour if row.per_hour is None else row.per_hour
    return UrgentPolicy(row.allowed, per_hour, custom=True)


def set_urgent_policy(
    session: Session,
    *,
    member_name: str,
    allowed: bool | None = None,
    per_hour: int | None = None,
    reset: bool = False,
    default_per_hour: int,
) -> UrgentPolicy:
    """Allow or deny a member urgent marks, or give it its own hourly limit; ``reset``
    returns it to the defaults. Options not given keep their value."""
    member = get_member_or_raise(session, member_name)
    member_id = member.id or 0
    row = session.get(UrgentSetting, member_id)
    if reset:
        if row is not None:
            session.delete(row)
            session.flush()
        return UrgentPolicy(True, default_per_hour)
    row = row or UrgentSetting(member_id=member_id)
    if allowed is not None:
        row.allowed = allowed
    if per_hour is not None:
        row.per_hour = per_hour
    session.add(row)
    session.flush()
    return urgent_policy(session, member_id=member_id, default_per_hour=default_per_hour)


def grant_urgent(
    session: Session,
    *,
    member_id: int | None,
    written: list[Written],
    successes: list[dict[str, str]],
    in_submissions: bool,
    default_per_hour: int,
    now_us: int,
) -> set[str]:
    """Decide on the urgent marks among newly stored objects, in envelope order; returns
    the ids of the honoured ones. Their status entries get a ``message`` either way."""
    marked = [item for item in written if is_marked(item.obj)]
    if not marked or member_id is None:
        return set()
    entries = {(e.get("id"), e.get("version")): e for e in successes}
    policy = urgent_policy(session, member_id=member_id, default_per_hour=default_per_hour)
    window = _honoured_since(session, member_id, now_us - HOUR_US)
    granted: set[str] = set()
    rows: list[UrgentMark] = []
    for item in marked:
        reason = _refusal(policy, in_submissions, window, now_us)
        if reason is None:
            granted.add(item.obj["id"])
            window.append(now_us)
        rows.append(
            UrgentMark(
                stix_pk=item.pk,
                member_id=member_id,
                marked_us=now_us,
                granted=reason is None,
                reason=reason,
            )
        )
        described = describe(item.obj)
        entry = entries.get((described["id"], described.get("version")))
        if entry is not None:
            entry["message"] = HONOURED if reason is None else NOT_HONOURED + reason
    session.add_all(rows)
    session.flush()
    return granted


def _refusal(
    policy: UrgentPolicy, in_submissions: bool, window: list[int], now_us: int
) -> str | None:
    if not in_submissions:
        return "only objects submitted to the submissions collection can be urgent"
    if not policy.allowed:
        return "this member may not mark objects urgent (ask the hub's operators)"
    if len(window) >= policy.per_hour:
        if policy.per_hour == 0:
            return "this member's limit is 0 urgent objects an hour"
        again = format_timestamp(window[-policy.per_hour] + HOUR_US)
        return (
            f"over this member's limit of {policy.per_hour} urgent objects an hour "
            f"(the next is honoured from {again})"
        )
    return None


def _honoured_since(session: Session, member_id: int, since_us: int) -> list[int]:
    """When the member's honoured marks of the window were made, oldest first."""
    query = (
        select(UrgentMark.marked_us)
        .where(
            UrgentMark.member_id == member_id,
            UrgentMark.marked_us > since_us,
            UrgentMark.granted,
        )
        .order_by(UrgentMark.marked_us)
    )
    return [int(t) for t in session.execute(query).scalars()]


def honoured_count(session: Session, *, member_id: int, now_us: int) -> int:
    """Honoured marks of the last hour (what ``member urgent NAME`` shows)."""
    return int(
        session.execute(
            select(func.count()).where(
                UrgentMark.member_id == member_id,
                UrgentMark.marked_us > now_us - HOUR_US,
                UrgentMark.granted,
            )
        ).scalar_one()
    )


def with_republications(granted: Iterable[str]) -> set[str]:
    """The honoured ids plus those of their anonymous republications (which carry the same
    content, mark included, and are what feeds the network view in their stead)."""
    ids = set(granted)
    return ids | {republished_id(object_id) for object_id in ids}
