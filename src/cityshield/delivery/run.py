"""One target's delivery: take its lease, then read a batch, send it, record what came of
it, until nothing is due, the target fails, or the worker stops.

No database transaction is open while a receiver is being talked to: a batch is read in
one short transaction, sent with none, and its receipts and the cursor are written in
another. A worker killed between the two loses nothing: the cursor has not moved, so the
batch is read and sent again, with the same ids and ``modified`` (stored bytes), and what
the receiver already holds is recognised as such (``client.push``). A batch read under an
older ``revision`` of the target (an operator replaced it meanwhile) records nothing.

The lease (the ``job`` table's, named ``delivery:<target id>``) is what keeps two workers
from sending to one target at once; it is renewed between batches and outlasts any one
batch's timeouts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import orjson
from cryptography.fernet import Fernet
from sqlalchemy import Engine
from sqlmodel import Session

from cityshield.client.push import PushItem, PushResult
from cityshield.db import session_scope
from cityshield.dedup.models import NetworkView
from cityshield.delivery import receipts as receipts_service
from cityshield.delivery.credentials import Credentials, unseal
from cityshield.delivery.models import DeliveryTarget
from cityshield.delivery.receipts import DELIVERED, REJECTED, Receipt
from cityshield.delivery.retry import ACTIVE, Backoff, record_failure, record_success
from cityshield.delivery.source import (
    Batch,
    DueItem,
    is_urgent,
    member_count,
    read_batch,
    read_urgent,
    scope_digest,
)
from cityshield.delivery.status import snapshot_lag
from cityshield.delivery.webhooks import WEBHOOK, notifications
from cityshield.errors import CityShieldError
from cityshield.members.service import caller_for
from cityshield.policy import service as policy
from cityshield.store.collections import get_collection_by_alias
from cityshield.store.leases import Lease
from cityshield.store.models import Member
from cityshield.timefmt import now_micros

log = logging.getLogger(__name__)

LEASE_PREFIX = "delivery:"


def lease_name(target_id: int) -> str:
    return f"{LEASE_PREFIX}{target_id}"


@dataclass(frozen=True)
class DeliveryOptions:
    batch_size: int
    backoff: Backoff
    recheck_us: int
    """How often a target's scope digest is compared (a wider policy needs a rescan)."""
    lease_us: int
    fernet: Fernet


@dataclass(frozen=True)
class Destination:
    """Where and how to send, as of the target's ``revision``."""

    target_id: int
    revision: int
    member: str
    kind: str
    url: str
    collection: str | None
    credentials: Credentials

    def __repr__(self) -> str:  # never the secret (dataclass repr would include it)
        return f"Destination({self.member!r}, {self.kind}, {self.url!r}, rev {self.revision})"


class Sender(Protocol):
    def push(self, items: Sequence[PushItem]) -> PushResult: ...
    def close(self) -> None: ...


OpenSender = Callable[[Destination], Sender]


@dataclass(frozen=True)
class _Plan:
    destination: Destination
    batch: Batch
    send: list[DueItem]
    """The batch less what ``min_members`` holds back."""


def deliver_target(
    engine: Engine,
    target_id: int,
    *,
    options: DeliveryOptions,
    holder: str,
    open_sender: OpenSender,
    stopping: Callable[[], bool],
) -> None:
    """Deliver what is due to one target, if this worker gets its lease; then record its
    lag (what the job reports as its backlog) and release the lease."""
    lease = Lease(engine, name=lease_name(target_id), holder=holder, lease_us=options.lease_us)
    if not lease.take():
        return
    sender: Sender | None = None
    error: str | None = None
    revision: int | None = None
    try:
        while True:
            with session_scope(engine) as session:
                plan = _plan(session, target_id, options=options, now_us=now_micros())
            if plan is None:
                break
            revision = plan.destination.revision
            result = PushResult()
            if plan.send:
                if sender is None:
                    sender = open_sender(plan.destination)
                result = sender.push([_push_item(item) for item in plan.send])
            with session_scope(engine) as session:
                clean = _settle(session, plan, result, options=options, now_us=now_micros())
            if not clean or not plan.batch.more or stopping() or not lease.renew():
                break
    except CityShieldError as exc:
        error = exc.description
    except Exception as exc:  # a bug or the database: back off rather than spin
        log.exception("delivery to target %d failed", target_id)
        error = f"{type(exc).__name__}: {exc}"
    finally:
        if sender is not None:
            sender.close()
    try:
        with session_scope(engine) as session:
            if error is not None:
                _fail(session, target_id, revision, error, options=options, now_us=now_micros())
            snapshot_lag(session, target_id)
    except Exception:  # recording is best effort; the lease must still be released
        log.exception("recording the outcome for target %d failed", target_id)
    lease.finish(error=error)


def _plan(
    session: Session, target_id: int, *, options: DeliveryOptions, now_us: int
) -> _Plan | None:
    """The next batch for an active, due target; None when there is none to send to."""
    target = session.get(DeliveryTarget, target_id)
    if target is None or target.state != ACTIVE or target.next_attempt_us > now_us:
        return None
    member = session.get(Member, target.member_id)
    if member is None or not member.active:
        return None
    caller = caller_for(session, member)
    collection = get_collection_by_alias(session, target.view)
    if now_us >= target.next_check_us or not target.scope_digest:
        digest = scope_digest(session, caller)
        if digest != target.scope_digest:
            network = policy.object_source(caller, collection) is NetworkView
            if target.scope_digest and not network:
                target.cursor_us = 0  # visibility may have widened over old rows: rescan
            target.scope_digest = digest
        target.next_check_us = now_us + options.recheck_us
        session.add(target)
    destination = _destination(target, member.name, options.fernet)

    def read(reader: Callable[..., Batch]) -> tuple[Batch, list[DueItem]]:
        batch = reader(
            session,
            caller=caller,
            collection=collection,
            target_id=target_id,
            after_us=target.cursor_us,
            limit=options.batch_size,
        )
        return batch, _eligible(session, target, batch.items)

    # Urgent items first, ahead of whatever the cursor has yet to pass (delivery.urgent).
    batch, send = read(read_urgent)
    if not send:
        batch, send = read(read_batch)
    if target.kind == WEBHOOK:
        send = notifications(session, caller=caller, items=send)
    return _Plan(destination, batch, send)


def _eligible(session: Session, target: DeliveryTarget, items: list[DueItem]) -> list[DueItem]:
    """Hold back network indicators fewer than ``min_members`` corroborate, and for an
    ``urgent_only`` target those that are not urgent, unless the target already has a
    version of one: then every later version follows (a revocation must reach a receiver
    that blocks the earlier one, even once the IOC is no longer urgent)."""
    if (target.min_members is None and not target.urgent_only) or target.id is None:
        return items
    minimum = target.min_members or 0

    def admitted(item: DueItem) -> bool:
        return member_count(item) >= minimum and (not target.urgent_only or is_urgent(item))

    below = {item.object_id for item in items if not admitted(item)}
    if not below:
        return items
    followed = receipts_service.delivered_ids(session, target_id=target.id, object_ids=below)
    return [i for i in items if i.object_id not in below or i.object_id in followed]


def _destination(target: DeliveryTarget, member: str, fernet: Fernet) -> Destination:
    secret = unseal(fernet, target.secret) if target.secret else None
    return Destination(
        target_id=target.id or 0,
        revision=target.revision,
        member=member,
        kind=target.kind,
        url=target.url,
        collection=target.collection,
        credentials=Credentials(target.auth, target.auth_user, secret),
    )


def _push_item(item: DueItem) -> PushItem:
    body = orjson.loads(item.body)
    version = body.get("modified") or body.get("created")
    return PushItem(item.object_id, version if isinstance(version, str) else None, item.body)


def _settle(
    session: Session, plan: _Plan, result: PushResult, *, options: DeliveryOptions, now_us: int
) -> bool:
    """Record receipts, then move the cursor past the batch if every item was answered;
    True if delivery may go on with the next batch."""
    target = session.get(DeliveryTarget, plan.destination.target_id)
    if target is None or target.revision != plan.destination.revision:
        return False
    receipts = [
        Receipt(item.object_id, item.version_us, item.added_us, DELIVERED)
        for item in plan.send
        if item.object_id in result.delivered
    ] + [
        Receipt(
            item.object_id,
            item.version_us,
            item.added_us,
            REJECTED,
            result.rejected[item.object_id],
        )
        for item in plan.send
        if item.object_id in result.rejected and item.object_id not in result.delivered
    ]
    receipts_service.record_receipts(
        session, target_id=target.id or 0, receipts=receipts, now_us=now_us
    )
    unresolved = len(plan.send) - len(receipts)
    if result.error is not None or unresolved:
        error = result.error or f"{unresolved} objects got no answer"
        record_failure(target, error=error, now_us=now_us, backoff=options.backoff)
        log.warning(
            "push to %s (%s) failed, attempt %d: %s",
            plan.destination.member,
            plan.destination.url,
            target.attempts,
            error,
        )
        session.add(target)
        return False
    target.cursor_us = plan.batch.end_us
    record_success(target, now_us=now_us, sent=bool(plan.send))
    if plan.send:
        log.info(
            "pushed %d objects to %s (%s), %d refused",
            len(plan.send),
            plan.destination.member,
            plan.destination.url,
            len(result.rejected),
        )
    session.add(target)
    return True


def _fail(
    session: Session,
    target_id: int,
    revision: int | None,
    error: str,
    *,
    options: DeliveryOptions,
    now_us: int,
) -> None:
    target = session.get(DeliveryTarget, target_id)
    if target is None or (revision is not None and target.revision != revision):
        return
    record_failure(target, error=error, now_us=now_us, backoff=options.backoff)
    log.warning("push to target %d failed, attempt %d: %s", target_id, target.attempts, error)
    session.add(target)
