"""Receipts: per target and per version of an object, whether its receiver holds it, and
since when. They answer "which members did this indicator reach, and when?", and they are
what makes a retry idempotent: a version with a receipt is never sent to that target
again, whatever the cursor says (a rescan, a retry after a crash mid-batch).

Nothing here is specific to TAXII: any sender reports delivered or rejected ids.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlmodel import Session, col

from cityshield.bulk import chunks, conflict_insert
from cityshield.delivery.models import DeliveryReceipt, DeliveryTarget
from cityshield.store.models import Member

DELIVERED, REJECTED = "delivered", "rejected"


@dataclass(frozen=True)
class Receipt:
    object_id: str
    version_us: int
    added_us: int
    status: str
    message: str | None = None


def record_receipts(
    session: Session, *, target_id: int, receipts: Sequence[Receipt], now_us: int
) -> None:
    """Write (or overwrite: a retried rejection may now be delivered) these receipts."""
    if not receipts:
        return
    statement = conflict_insert(session, DeliveryReceipt)
    statement = statement.on_conflict_do_update(
        index_elements=["target_id", "object_id", "version_us"],
        set_={
            "status": statement.excluded.status,
            "delivered_us": statement.excluded.delivered_us,
            "message": statement.excluded.message,
        },
    )
    session.execute(
        statement,
        [
            {
                "target_id": target_id,
                "object_id": r.object_id,
                "version_us": r.version_us,
                "status": r.status,
                "added_us": r.added_us,
                "delivered_us": now_us,
                "message": r.message,
            }
            for r in receipts
        ],
    )


def delivered_ids(session: Session, *, target_id: int, object_ids: Iterable[str]) -> set[str]:
    """Which of these objects the target holds some version of."""
    found: set[str] = set()
    for chunk in chunks(sorted(set(object_ids))):
        found.update(
            session.execute(
                select(col(DeliveryReceipt.object_id)).where(
                    col(DeliveryReceipt.target_id) == target_id,
                    col(DeliveryReceipt.object_id).in_(chunk),
                    col(DeliveryReceipt.status) == DELIVERED,
                )
            ).scalars()
        )
    return found


def list_receipts(
    session: Session, *, target_id: int, status: str | None = None, limit: int = 100
) -> list[DeliveryReceipt]:
    """The target's latest receipts, newest first."""
    query = select(DeliveryReceipt).where(col(DeliveryReceipt.target_id) == target_id)
    if status is not None:
        query = query.where(col(DeliveryReceipt.status) == status)
    query = query.order_by(
        col(DeliveryReceipt.delivered_us).desc(), col(DeliveryReceipt.added_us).desc()
    )
    return list(session.execute(query.limit(limit)).scalars())


def deliveries_of(session: Session, *, object_id: str) -> list[tuple[DeliveryReceipt, Any, Any]]:
    """Every receipt of one object (all its versions), with the member and URL of each
    target, by member then version."""
    rows = session.execute(
        select(DeliveryReceipt, col(Member.name), col(DeliveryTarget.url))
        .join(DeliveryTarget, col(DeliveryTarget.id) == DeliveryReceipt.target_id)
        .join(Member, col(Member.id) == DeliveryTarget.member_id)
        .where(col(DeliveryReceipt.object_id) == object_id)
        .order_by(col(Member.name), col(DeliveryReceipt.version_us))
    ).all()
    return [(receipt, name, url) for receipt, name, url in rows]


def deliveries_to(
    session: Session, *, object_ids: Iterable[str], member_id: int | None = None
) -> list[tuple[DeliveryReceipt, str, str]]:
    """Every receipt of these objects (all versions), with each target's member and kind;
    only the targets of ``member_id`` when given (what a member may know of its own
    deliveries), by delivery time."""
    found: list[tuple[DeliveryReceipt, str, str]] = []
    for chunk in chunks(sorted(set(object_ids))):
        query = (
            select(DeliveryReceipt, col(Member.name), col(DeliveryTarget.kind))
            .join(DeliveryTarget, col(DeliveryTarget.id) == DeliveryReceipt.target_id)
            .join(Member, col(Member.id) == DeliveryTarget.member_id)
            .where(col(DeliveryReceipt.object_id).in_(chunk))
        )
        if member_id is not None:
            query = query.where(col(DeliveryTarget.member_id) == member_id)
        found.extend((receipt, name, kind) for receipt, name, kind in session.execute(query))
    found.sort(key=lambda r: (r[0].delivered_us, r[1], r[2], r[0].object_id, r[0].version_us))
    return found


def first_added_us(session: Session, *, target_id: int, status: str) -> int | None:
    """The earliest ``date_added`` among the target's receipts of this status."""
    value = session.execute(
        select(func.min(DeliveryReceipt.added_us)).where(
            col(DeliveryReceipt.target_id) == target_id, col(DeliveryReceipt.status) == status
        )
    ).scalar_one()
    return None if value is None else int(value)


def forget_receipts(session: Session, *, target_id: int, status: str | None = None) -> int:
    """Drop a target's receipts (of one status), so what they covered is sent again."""
    statement = delete(DeliveryReceipt).where(col(DeliveryReceipt.target_id) == target_id)
    if status is not None:
        statement = statement.where(col(DeliveryReceipt.status) == status)
    result: Any = session.execute(statement)
    return int(result.rowcount or 0)
