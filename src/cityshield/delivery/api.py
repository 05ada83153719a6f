"""Admin HTTP API for delivery: push targets and webhooks with their lag, receipts and
retries, and which members an indicator reached. Admins only (403 for anyone else): errors
and URLs name members' systems.

Push targets (``/push-targets``) and webhooks (``/webhooks``) are both delivery targets, so
one set of routes serves each kind (:func:`_target_routes`), with the same answers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from cityshield.delivery import receipts as receipts_service
from cityshield.delivery import status, targets
from cityshield.delivery.models import DeliveryPublic, ReceiptPublic, TargetPublic
from cityshield.delivery.webhooks import WEBHOOK
from cityshield.deps import CallerDep, SessionDep
from cityshield.policy.service import require_admin
from cityshield.timefmt import now_micros

router = APIRouter(prefix="/api/v1", tags=["delivery"])
Status = Literal["delivered", "rejected"]


def _target_routes(path: str, kind: str, noun: str) -> None:
    """List, show, receipts and retry for one kind of target, under ``/api/v1/{path}``."""

    def list_all(session: SessionDep, caller: CallerDep) -> list[TargetPublic]:
        require_admin(caller)
        now_us = now_micros()
        return [
            status.public_target(target, member, status.measure_lag(session, target, now_us=now_us))
            for target, member in targets.list_targets(session, kind=kind)
        ]

    def show(member: str, session: SessionDep, caller: CallerDep) -> TargetPublic:
        require_admin(caller)
        target = targets.get_target_or_raise(session, member, kind)
        return status.public_target(
            target, member, status.measure_lag(session, target, now_us=now_micros())
        )

    def receipts(
        member: str,
        session: SessionDep,
        caller: CallerDep,
        receipt_status: Annotated[Status | None, Query(alias="status")] = None,
        limit: Annotated[int, Query(ge=1, le=10000)] = 100,
    ) -> list[ReceiptPublic]:
        require_admin(caller)
        target = targets.get_target_or_raise(session, member, kind)
        rows = receipts_service.list_receipts(
            session, target_id=target.id or 0, status=receipt_status, limit=limit
        )
        return [status.public_receipt(row) for row in rows]

    def retry(
        member: str,
        session: SessionDep,
        caller: CallerDep,
        rejected: Annotated[bool, Query(description="also resend what was refused")] = False,
    ) -> TargetPublic:
        require_admin(caller)
        (target,) = targets.retry_targets(session, member_name=member, rejected=rejected, kind=kind)
        return status.public_target(target, member)

    slug = noun.replace(" ", "_")
    routes: list[tuple[str, str, Callable[..., Any], str]] = [
        (
            "",
            "GET",
            list_all,
            f"Every {noun} with its state, last success and error, and lag "
            "(how many items are due, the oldest one's date_added and age); secrets as ***.",
        ),
        ("/{member}", "GET", show, f"One member's {noun} with its lag."),
        (
            "/{member}/receipts",
            "GET",
            receipts,
            f"The {noun}'s latest receipts, newest first: "
            "``delivered``, or ``rejected`` with the receiver's answer.",
        ),
        (
            "/{member}/retry",
            "POST",
            retry,
            f"Make a dead or backing-off {noun} due now (``outbox retry``); 400 if it is paused.",
        ),
    ]
    for suffix, method, endpoint, description in routes:
        router.add_api_route(
            f"/{path}{suffix}",
            endpoint,
            methods=[method],
            name=f"{endpoint.__name__}_{slug}",
            summary=f"{endpoint.__name__.replace('_', ' ').capitalize()} ({noun})",
            description=description,
        )


_target_routes("push-targets", targets.TAXII, "push target")
_target_routes("webhooks", WEBHOOK, "webhook")


@router.get("/indicators/{object_id}/deliveries")
def list_deliveries(object_id: str, session: SessionDep, caller: CallerDep) -> list[DeliveryPublic]:
    """Which members' servers hold (or refused) each version of this object, and when."""
    require_admin(caller)
    return [
        status.public_delivery(receipt, member, url)
        for receipt, member, url in receipts_service.deliveries_of(session, object_id=object_id)
    ]
