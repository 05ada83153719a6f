"""The worker's ``delivery`` job: every due target in its own thread, a bounded number at once.

A run lasts while any target has something due: it starts each due target's delivery in a
thread of a small pool (``CITYSHIELD_DELIVERY_CONCURRENCY``), starts the next as soon as a
thread is free, and returns once nothing is due and nothing is in flight (the worker's
early trigger polls :func:`has_due_target` to start the next run within ~0.1 s). A target
that hangs until its timeout holds one thread, never the others: a slow or dead member
never delays the rest.

Urgent items (``delivery.urgent``) also go ahead across targets: due targets with one past
their cursor are started first, and while one waits with every thread busy, the targets in
flight stop after their current batch (cursor saved) to give it a thread; they are due
again at once and resume.

A target is due when it is active, its backoff has passed, nobody holds its lease, and
either its view has rows past its cursor (one indexed ``max`` per target) or its periodic
scope check is due. The same query answers ``has_work``, so the job starts only when there
is something to do.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection
from functools import cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Engine,
    Integer,
    String,
    bindparam,
    case,
    cast,
    exists,
    func,
    literal,
    or_,
    select,
)
from sqlmodel import Session, col

from cityshield.config import Settings
from cityshield.db import session_scope
from cityshield.dedup.models import NetworkView
from cityshield.delivery.credentials import cipher
from cityshield.delivery.models import DeliveryReceipt, DeliveryTarget, UrgentMark
from cityshield.delivery.retry import ACTIVE, Backoff
from cityshield.delivery.run import LEASE_PREFIX, DeliveryOptions, OpenSender, deliver_target
from cityshield.delivery.senders import opener_by_kind, taxii_opener
from cityshield.delivery.status import backlog
from cityshield.delivery.targets import TAXII
from cityshield.delivery.webhook_sender import webhook_opener
from cityshield.delivery.webhooks import WEBHOOK
from cityshield.pooled import PooledRun
from cityshield.store.collections import NETWORK_ALIAS
from cityshield.store.models import Collection as StoreCollection
from cityshield.store.models import Member, StixObject
from cityshield.timefmt import now_micros
from cityshield.worker.models import JobRow

log = logging.getLogger(__name__)


def due_targets(
    session: Session,
    *,
    now_us: int,
    exclude: Collection[int] = (),
    limit: int | None = None,
    urgent_only: bool = False,
) -> list[int]:
    """Ids of targets with something to do now: those with urgent items past their cursor
    first (``delivery.urgent``), then the least recently served first.

    Round-robin by the last attempt, not by id: under steady ingest the targets served a
    moment ago are due again before a pool of a few threads has reached the last of dozens,
    and an order by id alone kept starting the same first few while the rest waited for
    the load to stop."""
    parameters: dict[str, Any] = {"now_us": now_us, "exclude": list(exclude)}
    if limit is not None:
        parameters["limit"] = limit
    query = _due_query(urgent_only=urgent_only, limited=limit is not None)
    return [int(i) for i in session.execute(query, parameters).scalars()]


@cache
def _due_query(*, urgent_only: bool, limited: bool) -> Any:
    """:func:`due_targets`'s statement, built once per shape with the time, the excluded
    ids and the limit as parameters: the worker asks it ten times a second
    (:func:`has_due_target`), and building it anew (functions, clause lists, the cache
    key) was half of an idle worker's CPU."""
    target = DeliveryTarget
    target_id, member_id, view = col(target.id), col(target.member_id), col(target.view)
    now_us = bindparam("now_us", type_=BigInteger)
    network_top = (
        select(func.max(col(NetworkView.date_added_us)))
        .where(col(NetworkView.member_id) == member_id)
        .scalar_subquery()
    )
    collection_top = (
        select(col(StoreCollection.last_added_us))
        .where(col(StoreCollection.alias) == view)
        .scalar_subquery()
    )
    top = case((view == NETWORK_ALIAS, network_top), else_=collection_top)
    urgent = _urgent_past_cursor(target)
    leased = exists().where(
        col(JobRow.name) == literal(LEASE_PREFIX) + cast(target_id, String),
        col(JobRow.expires_us) > now_us,
    )
    query: Any = (
        select(target_id)
        .join(Member, col(Member.id) == member_id)
        .where(
            col(DeliveryTarget.state) == ACTIVE,
            col(Member.active),
            col(DeliveryTarget.next_attempt_us) <= now_us,
            or_(
                func.coalesce(top, 0) > col(DeliveryTarget.cursor_us),
                col(DeliveryTarget.next_check_us) <= now_us,
            ),
            ~leased,
            target_id.not_in(bindparam("exclude", expanding=True)),
        )
        .order_by(
            case((urgent, 0), else_=1),
            func.coalesce(col(DeliveryTarget.last_attempt_us), 0),
            target_id,
        )
    )
    if urgent_only:
        query = query.where(urgent)
    if limited:
        query = query.limit(bindparam("limit", type_=Integer))
    return query


def _urgent_past_cursor(target: Any) -> Any:
    """Whether the target's view has an urgent row past its cursor that it has not sent
    (an ordering hint: visibility is checked when the batch is read, ``source.read_urgent``)."""

    def unsent(source: Any) -> Any:
        return ~exists().where(
            col(DeliveryReceipt.target_id) == target.id,
            col(DeliveryReceipt.object_id) == source.object_id,
            col(DeliveryReceipt.version_us) == source.version_us,
        )

    in_view = exists().where(
        col(NetworkView.member_id) == target.member_id,
        col(NetworkView.urgent),
        col(NetworkView.date_added_us) > target.cursor_us,
        unsent(NetworkView),
    )
    marked = exists().where(
        col(UrgentMark.granted),
        col(StixObject.pk) == UrgentMark.stix_pk,
        col(StixObject.collection_id) == StoreCollection.id,
        col(StoreCollection.alias) == target.view,
        col(StixObject.date_added_us) > target.cursor_us,
        unsent(StixObject),
    )
    return case((target.view == NETWORK_ALIAS, in_view), else_=marked)


def has_due_target(session: Session) -> bool:
    return bool(due_targets(session, now_us=now_micros(), limit=1))


def delivery_backlog(session: Session) -> int:
    return backlog(session)


def options_from(settings: Settings) -> DeliveryOptions:
    """The delivery settings, read once per run; the lease outlasts a batch's timeouts
    (opening, posting and reading versions, plus following the status) several times."""
    longest_batch = 4 * settings.delivery_timeout_seconds + settings.delivery_status_timeout_seconds
    return DeliveryOptions(
        batch_size=settings.delivery_batch_size,
        backoff=Backoff(
            first_s=settings.delivery_backoff_seconds,
            max_s=settings.delivery_backoff_max_seconds,
            max_attempts=settings.delivery_max_attempts,
        ),
        recheck_us=int(settings.delivery_interval_seconds * 1_000_000),
        lease_us=int(max(60.0, 2 * longest_batch) * 1_000_000),
        fernet=cipher(settings.home, settings.delivery_secret_key),
    )


def default_opener(settings: Settings) -> OpenSender:
    return opener_by_kind(
        {
            TAXII: taxii_opener(
                timeout_s=settings.delivery_timeout_seconds,
                status_timeout_s=settings.delivery_status_timeout_seconds,
            ),
            WEBHOOK: webhook_opener(timeout_s=settings.webhook_timeout_seconds),
        }
    )


def run_delivery(
    *,
    engine: Engine,
    settings: Settings,
    holder: str,
    renew: Callable[[], bool],
    stopping: Callable[[], bool],
    open_sender: OpenSender | None = None,
) -> None:
    """Deliver to every due target until none is due (or the worker stops, or the job's
    lease is lost); returns after the targets in flight have finished their batch."""
    with session_scope(engine) as session:
        if not has_due_target(session):
            return  # the interval's run with nothing due: no pool, no key file read
    options = options_from(settings)
    opener = open_sender or default_opener(settings)
    pooled: PooledRun[int] = PooledRun(renew=renew, stopping=stopping)
    yielding = threading.Event()
    """Set while a target outside the pool has urgent items and no thread is free: the
    targets in flight stop after their current batch (their cursor saved), so the urgent
    ones get threads first; the others are due again at once and resume."""

    def stopping_target() -> bool:
        return pooled.halted() or yielding.is_set()

    def due(running: Collection[int], free: int) -> list[int]:
        with session_scope(engine) as session:
            if free > 0:
                found = due_targets(session, now_us=now_micros(), exclude=running, limit=free)
                yielding.clear()
                return found
            if not yielding.is_set() and due_targets(
                session, now_us=now_micros(), exclude=running, limit=1, urgent_only=True
            ):
                yielding.set()
            return []

    def start(target_id: int) -> None:
        deliver_target(
            engine,
            target_id,
            options=options,
            holder=holder,
            open_sender=opener,
            stopping=stopping_target,
        )

    pooled.run(
        concurrency=settings.delivery_concurrency,
        thread_name="delivery",
        due=due,
        start=start,
        describe=lambda target_id: f"delivery to target {target_id}",
        log=log,
    )
