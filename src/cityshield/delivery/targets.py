"""Registering, changing and describing push targets (one TAXII target per member).

Replacing a target always rescans the member's view from the start: what is due may have
changed (another view, a lower ``min_members``). If the destination (URL and collection)
is the same, its receipts stay, so nothing it holds is sent again; a new destination
starts with none and gets everything the member may see.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from cryptography.fernet import Fernet
from sqlalchemy import select
from sqlmodel import Session, col

from cityshield.delivery import receipts as receipts_service
from cityshield.delivery.credentials import Credentials, seal
from cityshield.delivery.errors import InvalidTarget, TargetNotFound, TargetPaused
from cityshield.delivery.models import DeliveryTarget
from cityshield.delivery.receipts import REJECTED
from cityshield.delivery.retry import ACTIVE, DEAD, PAUSED, reset
from cityshield.members.service import get_member, get_member_or_raise
from cityshield.store.collections import NETWORK_ALIAS, SUBMISSIONS_ALIAS, get_collection_by_alias
from cityshield.store.models import Member

TAXII = "taxii"
VIEWS = (NETWORK_ALIAS, SUBMISSIONS_ALIAS)
LAG_CAP = 100_000
"""Due objects counted at most: a count is for an operator, not worth a full scan."""


@dataclass(frozen=True)
class TargetSpec:
    """What ``push-target add`` says: the member's TAXII API root and collection."""

    url: str
    collection: str
    view: str = NETWORK_ALIAS
    min_members: int | None = None
    credentials: Credentials = field(default_factory=Credentials)


def _checked(spec: TargetSpec) -> TargetSpec:
    parts = urlsplit(spec.url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidTarget(f"--url must be an http(s) TAXII API root URL, got {spec.url!r}.")
    if parts.username or parts.password:
        raise InvalidTarget("Put credentials in --user/--password or --token, not in the URL.")
    if parts.query or parts.fragment:
        raise InvalidTarget("A TAXII API root URL has no query or fragment.")
    if not spec.collection.strip():
        raise InvalidTarget("--collection must name the member's collection id.")
    if spec.view not in VIEWS:
        raise InvalidTarget(f"--view must be one of {', '.join(VIEWS)}, got {spec.view!r}.")
    if spec.min_members is not None and (spec.min_members < 1 or spec.view != NETWORK_ALIAS):
        raise InvalidTarget("--min-members is a positive number, for --view network only.")
    creds = spec.credentials
    if creds.kind == "basic" and not (creds.user and creds.secret):
        raise InvalidTarget("--user needs --password (and --password needs --user).")
    if creds.kind not in ("none", "basic", "token") or (creds.kind == "token" and not creds.secret):
        raise InvalidTarget("Give --user and --password, or --token, or neither.")
    url = spec.url if spec.url.endswith("/") else spec.url + "/"
    return TargetSpec(url, spec.collection.strip(), spec.view, spec.min_members, creds)


def register_target(
    session: Session, *, member_name: str, spec: TargetSpec, fernet: Fernet, now_us: int
) -> DeliveryTarget:
    """Register the member's push target, or replace it (see the module docstring)."""
    spec = _checked(spec)
    member = get_member_or_raise(session, member_name)
    get_collection_by_alias(session, spec.view)
    target = find_target(session, member.id or 0)
    if target is None:
        target = DeliveryTarget(
            member_id=member.id or 0, kind=TAXII, url=spec.url, created_us=now_us, updated_us=now_us
        )
    elif (target.url, target.collection) != (spec.url, spec.collection) and target.id is not None:
        receipts_service.forget_receipts(session, target_id=target.id)
    creds = spec.credentials
    target.url, target.collection, target.view = spec.url, spec.collection, spec.view
    target.min_members = spec.min_members
    target.auth, target.auth_user = creds.kind, creds.user
    target.secret = seal(fernet, creds.secret) if creds.secret else None
    target.cursor_us = 0
    target.scope_digest = ""
    save_revision(session, target, now_us=now_us)
    return target


def save_revision(session: Session, target: DeliveryTarget, *, now_us: int) -> None:
    """Save a registered or replaced target as a new ``revision``, due at once with a clean
    slate: a batch read under the old revision then records nothing (``delivery.run``), and
    the old definition's failures and backoff do not hold back the new one."""
    target.revision += 1
    target.updated_us = now_us
    reset(target)
    target.last_error = target.last_error_us = None
    session.add(target)
    session.flush()


def find_target(session: Session, member_id: int, kind: str = TAXII) -> DeliveryTarget | None:
    """The member's target of this kind (one of each at most), if any."""
    return session.execute(
        select(DeliveryTarget).where(
            col(DeliveryTarget.member_id) == member_id, col(DeliveryTarget.kind) == kind
        )
    ).scalar_one_or_none()


def get_target_or_raise(session: Session, member_name: str, kind: str = TAXII) -> DeliveryTarget:
    """The member's target of this kind (a push target, or with ``kind="webhook"`` its
    webhook: both are delivery targets)."""
    member = get_member(session, member_name)
    target = find_target(session, member.id or 0, kind) if member is not None else None
    if target is None:
        raise TargetNotFound(f"{member_name!r} has no {_NOUN.get(kind, kind)}.")
    return target


_NOUN = {TAXII: "push target", "webhook": "webhook"}


def list_targets(session: Session, kind: str | None = None) -> list[tuple[DeliveryTarget, str]]:
    """Every target (of one kind) with its member's name, by name."""
    query = (
        select(DeliveryTarget, col(Member.name))
        .join(Member, col(Member.id) == DeliveryTarget.member_id)
        .order_by(col(Member.name), col(DeliveryTarget.kind))
    )
    if kind is not None:
        query = query.where(col(DeliveryTarget.kind) == kind)
    return [(target, name) for target, name in session.execute(query).all()]


def remove_target(session: Session, *, member_name: str, kind: str = TAXII) -> None:
    """Stop pushing to the member's server; its receipts go with it."""
    session.delete(get_target_or_raise(session, member_name, kind))
    session.flush()


def pause_target(session: Session, *, member_name: str, kind: str = TAXII) -> DeliveryTarget:
    """Stop sending until resumed; what becomes due meanwhile is sent then."""
    target = get_target_or_raise(session, member_name, kind)
    target.state = PAUSED
    session.add(target)
    return target


def resume_target(session: Session, *, member_name: str, kind: str = TAXII) -> DeliveryTarget:
    """Active again (from paused or dead), due at once."""
    target = get_target_or_raise(session, member_name, kind)
    reset(target)
    session.add(target)
    return target


def retry_targets(
    session: Session, *, member_name: str | None, rejected: bool = False, kind: str = TAXII
) -> list[DeliveryTarget]:
    """Make a dead or backing-off target (or, with no name, every one of any kind) due
    now; with ``rejected``, forget its refusals too and rescan, so the refused objects go
    again (a webhook rescans from its first refusal only: it tells of changes since it was
    registered, it is not a copy to fill)."""
    if member_name is not None:
        targets = [get_target_or_raise(session, member_name, kind)]
        if targets[0].state == PAUSED:
            raise TargetPaused(f"{member_name!r}'s {_NOUN.get(kind, kind)} is paused; resume it.")
    else:
        targets = [
            t
            for t, _ in list_targets(session)
            if t.state == DEAD or (t.state == ACTIVE and (t.attempts or rejected))
        ]
    for target in targets:
        reset(target)
        if rejected and target.id is not None:
            first = receipts_service.first_added_us(session, target_id=target.id, status=REJECTED)
            receipts_service.forget_receipts(session, target_id=target.id, status=REJECTED)
            if target.kind == TAXII:
                target.cursor_us = 0
            elif first is not None:
                target.cursor_us = min(target.cursor_us, first - 1)
            target.revision += 1
        session.add(target)
    session.flush()
    return targets
