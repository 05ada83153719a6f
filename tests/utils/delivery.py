"""Helpers for push-delivery tests: register targets, read their state, wait for arrival,
and what a member reads over TAXII (what its target must receive, exactly)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import delete, select

from cityshield.config import Settings
from cityshield.db import session_scope
from cityshield.delivery.credentials import Credentials, cipher
from cityshield.delivery.models import DeliveryReceipt, DeliveryTarget
from cityshield.delivery.targets import TargetSpec, register_target
from cityshield.timefmt import now_micros
from tests.utils.medallion import Medallion
from tests.utils.server import Hub, TestMember

T = TypeVar("T")


def push_settings(hub: Hub, **overrides: Any) -> Settings:
    """The hub's settings with quick retries, for a worker under test."""
    values: dict[str, Any] = {
        "delivery_backoff_seconds": 0.05,
        "delivery_backoff_max_seconds": 0.2,
        "delivery_interval_seconds": 0.5,
        "delivery_timeout_seconds": 10,
        "delivery_status_timeout_seconds": 10,
        **overrides,
    }
    return hub.settings.model_copy(update=values)


def register(
    hub: Hub,
    member: TestMember,
    *,
    api_root: str,
    collection: str,
    view: str = "network",
    min_members: int | None = None,
    user: str | None = Medallion.user,
    password: str | None = Medallion.password,
) -> DeliveryTarget:
    credentials = Credentials("basic", user, password) if user else Credentials()
    with session_scope(hub.engine) as session:
        return register_target(
            session,
            member_name=member.name,
            spec=TargetSpec(api_root, collection, view, min_members, credentials),
            fernet=cipher(hub.settings.home, hub.settings.delivery_secret_key),
            now_us=now_micros(),
        )


def target_of(hub: Hub, member: TestMember, kind: str | None = None) -> DeliveryTarget:
    """The member's target (of this kind: one with a push target and a webhook has two)."""
    query = select(DeliveryTarget).where(DeliveryTarget.member_id == member.member_id)
    if kind is not None:
        query = query.where(DeliveryTarget.kind == kind)
    with session_scope(hub.engine) as session:
        return session.execute(query).scalar_one()


def receipts_of(hub: Hub, member: TestMember, kind: str | None = None) -> list[DeliveryReceipt]:
    target = target_of(hub, member, kind)
    with session_scope(hub.engine) as session:
        return list(
            session.execute(
                select(DeliveryReceipt).where(DeliveryReceipt.target_id == target.id)
            ).scalars()
        )


def remove_targets(hub: Hub) -> None:
    with session_scope(hub.engine) as session:
        session.execute(delete(DeliveryTarget))


def wait_for(check: Callable[[], T], what: str, timeout: float = 120) -> T:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` if it never
    does (a deadline for a condition, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting: {what}")
        time.sleep(0.1)


def readable(hub: Hub, member: TestMember, collection: str) -> set[tuple[str, str | None]]:
    """(id, modified) of every version the member reads from a hub collection over TAXII."""
    seen: set[tuple[str, str | None]] = set()
    params: dict[str, str] = {"match[version]": "all", "limit": "500"}
    with hub.client(member) as client:
        for _ in range(1000):
            answer = client.get(f"collections/{collection}/objects/", params=params)
            assert answer.status_code == 200, answer.text
            page = answer.json()
            seen.update((o["id"], o.get("modified")) for o in page.get("objects", []))
            if not page.get("more"):
                return seen
            params["next"] = page["next"]
    raise AssertionError("paging did not end")
