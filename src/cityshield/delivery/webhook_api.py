"""Admin HTTP API for webhooks: each with its state and lag, its receipts, retries. Admins
only (403 for anyone else), as for push targets: URLs and errors name members' systems."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from cityshield.delivery import receipts as receipts_service
from cityshield.delivery import status, targets
from cityshield.delivery.models import ReceiptPublic, TargetPublic
from cityshield.delivery.webhooks import WEBHOOK
from cityshield.deps import CallerDep, SessionDep
from cityshield.policy.service import require_admin
from cityshield.timefmt import now_micros

router = APIRouter(prefix="/api/v1", tags=["delivery"])
Status = Literal["delivered", "rejected"]


@router.get("/webhooks")
def list_webhooks(session: SessionDep, caller: CallerDep) -> list[TargetPublic]:
    """Every webhook with its state, last success and error, and lag (secrets as ***)."""
    require_admin(caller)
    now_us = now_micros()
    return [
        status.public_target(target, member, status.measure_lag(session, target, now_us=now_us))
        for target, member in targets.list_targets(session, kind=WEBHOOK)
    ]


@router.get("/webhooks/{member}")
def get_webhook(member: str, session: SessionDep, caller: CallerDep) -> TargetPublic:
    """One member's webhook with its lag."""
    require_admin(caller)
    target = targets.get_target_or_raise(session, member, WEBHOOK)
    return status.public_target(
        target, member, status.measure_lag(session, target, now_us=now_micros())
    )


@router.get("/webhooks/{member}/receipts")
def list_webhook_receipts(
    member: str,
    session: SessionDep,
    caller: CallerDep,
    receipt_status: Annotated[Status | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=10000)] = 100,
) -> list[ReceiptPublic]:
    """The webhook's latest receipts, newest first: one per notified version of a network
    indicator, ``delivered`` (2xx) or ``rejected`` (400, 413, 422, with the answer)."""
    require_admin(caller)
    target = targets.get_target_or_raise(session, member, WEBHOOK)
    rows = receipts_service.list_receipts(
        session, target_id=target.id or 0, status=receipt_status, limit=limit
    )
    return [status.public_receipt(row) for row in rows]


@router.post("/webhooks/{member}/retry")
def retry_webhook(
    member: str,
    session: SessionDep,
    caller: CallerDep,
    rejected: Annotated[bool, Query(description="also resend what was refused")] = False,
) -> TargetPublic:
    """Make a dead or backing-off webhook due now; 400 if it is paused."""
    require_admin(caller)
    (target,) = targets.retry_targets(session, member_name=member, rejected=rejected, kind=WEBHOOK)
    return status.public_target(target, member)
