"""Admin HTTP API for push delivery: targets with their lag, receipts, retries, and which
members an indicator reached. Admins only (403 for anyone else): errors and URLs name
members' systems."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from cityshield.delivery import receipts as receipts_service
from cityshield.delivery import status, targets
from cityshield.delivery.models import DeliveryPublic, ReceiptPublic, TargetPublic
from cityshield.deps import CallerDep, SessionDep
from cityshield.policy.service import require_admin
from cityshield.timefmt import now_micros

router = APIRouter(prefix="/api/v1", tags=["delivery"])
Status = Literal["delivered", "rejected"]


@router.get("/push-targets")
def list_push_targets(session: SessionDep, caller: CallerDep) -> list[TargetPublic]:
    """Every push target with its state, last success and error, and lag (how many
    objects are due and the oldest one's date_added and age)."""
    require_admin(caller)
    now_us = now_micros()
    return [
        status.public_target(target, member, status.measure_lag(session, target, now_us=now_us))
        for target, member in targets.list_targets(session, kind=targets.TAXII)
    ]


@router.get("/push-targets/{member}")
def get_push_target(member: str, session: SessionDep, caller: CallerDep) -> TargetPublic:
    """One member's push target with its lag."""
    require_admin(caller)
    target = targets.get_target_or_raise(session, member)
    return status.public_target(
        target, member, status.measure_lag(session, target, now_us=now_micros())
    )


@router.get("/push-targets/{member}/receipts")
def list_push_receipts(
    member: str,
    session: SessionDep,
    caller: CallerDep,
    receipt_status: Annotated[Status | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=10000)] = 100,
) -> list[ReceiptPublic]:
    """The target's latest receipts, newest first: what its server holds (``delivered``)
    or refused (``rejected``, with its message)."""
    require_admin(caller)
    target = targets.get_target_or_raise(session, member)
    rows = receipts_service.list_receipts(
        session, target_id=target.id or 0, status=receipt_status, limit=limit
    )
    return [status.public_receipt(row) for row in rows]


@router.post("/push-targets/{member}/retry")
def retry_push_target(
    member: str,
    session: SessionDep,
    caller: CallerDep,
    rejected: Annotated[bool, Query(description="also resend what was refused")] = False,
) -> TargetPublic:
    """Make a dead or backing-off target due now (``outbox retry``); 400 if it is paused."""
    require_admin(caller)
    (target,) = targets.retry_targets(session, member_name=member, rejected=rejected)
    return status.public_target(target, member)


@router.get("/indicators/{object_id}/deliveries")
def list_deliveries(object_id: str, session: SessionDep, caller: CallerDep) -> list[DeliveryPublic]:
    """Which members' servers hold (or refused) each version of this object, and when."""
    require_admin(caller)
    return [
        status.public_delivery(receipt, member, url)
        for receipt, member, url in receipts_service.deliveries_of(session, object_id=object_id)
    ]
