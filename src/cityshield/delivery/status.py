"""How targets are doing: lag over exactly what delivery would send, and the shapes
operators see (``outbox``, ``/api/v1/push-targets``), never with a secret in them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from cityshield.delivery import source
from cityshield.delivery.credentials import MASK
from cityshield.delivery.models import (
    DeliveryPublic,
    DeliveryReceipt,
    DeliveryTarget,
    LagPublic,
    ReceiptPublic,
    TargetPublic,
)
from cityshield.delivery.retry import ACTIVE, PAUSED
from cityshield.members.service import caller_for
from cityshield.store.collections import get_collection_by_alias
from cityshield.store.models import Member
from cityshield.timefmt import format_timestamp

LAG_CAP = 100_000
"""Due objects counted at most: a count is for an operator, not worth a full scan."""


def _lag(session: Session, target: DeliveryTarget) -> tuple[int, bool, int | None]:
    member = session.get(Member, target.member_id)
    if member is None or target.id is None:
        return 0, False, None
    return source.lag(
        session,
        caller=caller_for(session, member),
        collection=get_collection_by_alias(session, target.view),
        target_id=target.id,
        after_us=target.cursor_us,
        cap=LAG_CAP,
    )


def measure_lag(session: Session, target: DeliveryTarget, *, now_us: int) -> LagPublic:
    """How much is due, and since when (its ``date_added`` in the member's view)."""
    depth, capped, oldest = _lag(session, target)
    return LagPublic(
        queue_depth=depth,
        queue_depth_capped=capped,
        oldest_undelivered=_time(oldest),
        oldest_undelivered_age_seconds=None if oldest is None else (now_us - oldest) / 1e6,
    )


def snapshot_lag(session: Session, target_id: int) -> None:
    """Store the target's current lag on its row (what the job reports as its backlog)."""
    target = session.get(DeliveryTarget, target_id)
    if target is None:
        return
    target.queue_depth, _, target.oldest_pending_us = _lag(session, target)
    session.add(target)


def backlog(session: Session) -> int:
    """What every target that is not paused has due, as last measured."""
    value = session.execute(
        select(func.coalesce(func.sum(col(DeliveryTarget.queue_depth)), 0)).where(
            col(DeliveryTarget.state) != PAUSED
        )
    ).scalar_one()
    return int(value)


def public_target(
    target: DeliveryTarget, member: str, lag: LagPublic | None = None
) -> TargetPublic:
    return TargetPublic(
        member=member,
        kind=target.kind,
        url=target.url,
        collection=target.collection,
        view=target.view,
        min_members=target.min_members,
        urgent_only=target.urgent_only,
        auth=target.auth,
        user=target.auth_user,
        secret=MASK if target.secret else None,
        state=target.state,
        attempts=target.attempts,
        next_attempt=_time(target.next_attempt_us or None) if target.state == ACTIVE else None,
        last_attempt=_time(target.last_attempt_us),
        last_success=_time(target.last_success_us),
        last_error=target.last_error,
        last_error_at=_time(target.last_error_us),
        cursor=_time(target.cursor_us or None),
        lag=lag,
    )


def public_receipt(receipt: DeliveryReceipt) -> ReceiptPublic:
    return ReceiptPublic(**_receipt_fields(receipt))


def public_delivery(receipt: DeliveryReceipt, member: str, url: str) -> DeliveryPublic:
    return DeliveryPublic(member=member, url=url, **_receipt_fields(receipt))


def _receipt_fields(receipt: DeliveryReceipt) -> dict[str, Any]:
    return {
        "object_id": receipt.object_id,
        "version": format_timestamp(receipt.version_us),
        "status": receipt.status,
        "date_added": format_timestamp(receipt.added_us),
        "delivered": format_timestamp(receipt.delivered_us),
        "latency_seconds": (receipt.delivered_us - receipt.added_us) / 1e6,
        "message": receipt.message,
    }


def _time(micros: int | None) -> str | None:
    return None if micros is None else format_timestamp(micros)
