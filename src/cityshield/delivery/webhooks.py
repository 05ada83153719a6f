"""Members' webhooks: a JSON notification for each change of a network indicator the member
may see, signed the Standard Webhooks way (``delivery.webhook_sender`` sends them).

A webhook is a delivery target of kind ``webhook`` over the member's ``network`` view, so
it shares the cursor, leases, retries, dead letters and receipts of push targets
(``delivery.run``): one notification per version of the member's network indicator, in
``date_added`` order, urgent ones first. Each notification is built from that member's
own view (its body, and the originals behind ``contributing_refs`` that it may read), never
from the network-wide state: what it says about corroboration is what that member would
read over TAXII (noninterference).

A new webhook starts at the member's current high-water mark: it tells of changes from
now on, not of the whole history (a TAXII target, by contrast, is a copy to fill). Its
secret (``whsec_`` + base64 of 24 random bytes, the Standard Webhooks format) is made
here, shown once by the command that registers it, and stored encrypted like push-target
credentials (``delivery.credentials``).
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson
from cryptography.fernet import Fernet
from sqlalchemy import select
from sqlmodel import Session, col

from cityshield.dedup.publish import CORROBORATION_EXTENSION_ID
from cityshield.delivery import receipts as receipts_service
from cityshield.delivery.credentials import seal
from cityshield.delivery.errors import InvalidTarget
from cityshield.delivery.models import DeliveryTarget
from cityshield.delivery.source import DueItem, high_water
from cityshield.delivery.targets import find_target, save_revision
from cityshield.errors import Forbidden
from cityshield.members.caller import Caller
from cityshield.members.service import caller_for, get_member_or_raise
from cityshield.policy import service as policy
from cityshield.signing.models import SigningKey
from cityshield.stix.vocabulary import TLP2
from cityshield.store.collections import NETWORK_ALIAS, SUBMISSIONS_ALIAS, get_collection_by_alias
from cityshield.store.models import Member, StixObject

WEBHOOK = "webhook"
SECRET_PREFIX = "whsec_"
SIGNING = "signing"
"""The ``auth`` of a webhook target: its secret signs, it is not sent."""
CREATED, UPDATED, REVOKED = "indicator.created", "indicator.updated", "indicator.revoked"


@dataclass(frozen=True)
class Registered:
    """A webhook as registered; ``secret`` only when it was (re)made now, to show once."""

    target: DeliveryTarget
    secret: str | None


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def _checked_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidTarget(f"--url must be an http(s) URL, got {url!r}.")
    if parts.username or parts.password or parts.fragment:
        raise InvalidTarget("A webhook URL has no credentials or fragment in it.")
    return url


def register_webhook(
    session: Session,
    *,
    member_name: str,
    url: str,
    urgent_only: bool,
    fernet: Fernet,
    now_us: int,
    new_secret_wanted: bool = False,
) -> Registered:
    """Register the member's webhook, or replace it. Replacing keeps its secret (unless
    ``new_secret_wanted``) and, for the same URL, its cursor and receipts; a new URL starts
    at the member's current high-water mark with no receipts."""
    url = _checked_url(url)
    member = get_member_or_raise(session, member_name)
    target = find_target(session, member.id or 0, WEBHOOK)
    moved = target is None or target.url != url
    if target is None:
        target = DeliveryTarget(
            member_id=member.id or 0,
            kind=WEBHOOK,
            url=url,
            view=NETWORK_ALIAS,
            auth=SIGNING,
            created_us=now_us,
            updated_us=now_us,
        )
        new_secret_wanted = True
    if moved:
        if target.id is not None:
            receipts_service.forget_receipts(session, target_id=target.id)
        network = get_collection_by_alias(session, NETWORK_ALIAS)
        target.cursor_us = high_water(
            session, caller=caller_for(session, member), collection=network
        )
    secret = new_secret() if new_secret_wanted else None
    if secret is not None:
        target.secret = seal(fernet, secret)
    target.url, target.urgent_only = url, urgent_only
    save_revision(session, target, now_us=now_us)
    return Registered(target, secret)


# --------------------------------------------------------------------------------------------
# Notifications


def notifications(session: Session, *, caller: Caller, items: list[DueItem]) -> list[DueItem]:
    """The items with each body replaced by its notification (same id, version, date_added:
    receipts and retries treat them as the indicators they tell of)."""
    bodies = [orjson.loads(item.body) for item in items]
    refs = {ref for body in bodies for ref in _extension(body).get("contributing_refs") or []}
    authors = _authors(session, caller, refs)
    return [
        DueItem(
            item.object_id,
            item.version_us,
            item.added_us,
            orjson.dumps(notification(body, authors)).decode(),
        )
        for item, body in zip(items, bodies, strict=True)
    ]


def notification(
    indicator: dict[str, Any], authors: dict[str, dict[str, Any] | None]
) -> dict[str, Any]:
    """The Standard Webhooks payload (``type``, ``timestamp``, ``data``) for one version of
    a member's network indicator. ``timestamp`` is that version's ``modified``: when the
    member's view changed, the same for every retry."""
    extension = _extension(indicator)
    refs = list(extension.get("contributing_refs") or [])
    signers = [authors[ref] for ref in refs if ref in authors]
    contributors = {a["identity"]: a for a in signers if a is not None}
    if indicator.get("revoked"):
        event = REVOKED
    elif indicator.get("created") == indicator.get("modified"):
        event = CREATED  # the first version of this id in the member's eyes
    else:
        event = UPDATED
    markings = indicator.get("object_marking_refs") or []
    data: dict[str, Any] = {
        "indicator_id": indicator.get("id"),
        "version": indicator.get("modified"),
        "state": extension.get("state"),
        "urgent": extension.get("urgent") is True,
        "observable_type": extension.get("observable_type"),
        "canonical_key": extension.get("canonical_key"),
        "pattern": indicator.get("pattern"),
        "valid_from": indicator.get("valid_from"),
        "valid_until": indicator.get("valid_until"),
        "tlp": next((TLP2[m] for m in markings if m in TLP2), None),
        "corroboration": {
            "member_count": extension.get("member_count"),
            "report_count": extension.get("report_count"),
            "sighting_count": extension.get("sighting_count"),
            "confidence": indicator.get("confidence"),
            "first_seen": extension.get("first_seen"),
            "last_seen": extension.get("last_seen"),
            "contributing_refs": refs,
            "contributors": sorted(contributors.values(), key=lambda a: a["identity"]),
            "anonymous_reports": sum(1 for a in signers if a is None),
        },
        "indicator": indicator,
    }
    if extension.get("benign_reason"):
        data["benign_reason"] = extension["benign_reason"]
    return {"type": event, "timestamp": indicator.get("modified"), "data": data}


def _extension(indicator: dict[str, Any]) -> dict[str, Any]:
    value = (indicator.get("extensions") or {}).get(CORROBORATION_EXTENSION_ID) or {}
    return value if isinstance(value, dict) else {}


def _authors(session: Session, caller: Caller, refs: set[str]) -> dict[str, dict[str, Any] | None]:
    """Who signed each contributing original, read through the member's own read path (the
    originals it may read in ``submissions``) and the public key registry, as a reader
    can learn it from the object's ``kid`` and the hub's JWKS: ``{"identity", "name"}`` of
    the member whose key it is, or ``None`` for the hub's key (an anonymous report's
    republication: its author is not told)."""
    if not refs:
        return {}
    submissions = get_collection_by_alias(session, SUBMISSIONS_ALIAS)
    try:
        query = policy.visible_objects(
            caller, submissions, StixObject.object_id, StixObject.kid
        ).where(StixObject.object_id.in_(sorted(refs)))  # type: ignore[attr-defined]
    except Forbidden:
        return {}
    kids = {object_id: kid for object_id, kid in session.execute(query) if kid}
    signers = {
        kid: {"identity": identity, "name": name}
        for kid, identity, name in session.execute(
            select(col(SigningKey.kid), col(Member.identity_id), col(Member.name))
            .join(Member, col(Member.id) == SigningKey.member_id)
            .where(col(SigningKey.kid).in_(sorted(set(kids.values()))))
        )
    }
    return {ref: signers.get(kid) for ref, kid in kids.items()}
