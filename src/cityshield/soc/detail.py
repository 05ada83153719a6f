"""One indicator in full, as the caller may see it: its corroboration, every report and
sighting that counts with every version of each, their signature status, where it was
delivered, and a provenance timeline of all of that.

Every part is read through the policy layer: the IOC through
``policy.visible_network_iocs`` (an IOC no visible report names is "not found", the same
answer as one that does not exist), reports through ``policy.counted_contributions``,
their versions through ``policy.visible_objects`` on ``submissions``, the network
indicator through the caller's own view. Deliveries are the caller's own targets'
receipts (every member's for admins): what reached a member is a function of what it
may see.
"""

from __future__ import annotations

import re
from typing import Any, Literal

import orjson
from sqlalchemy import select
from sqlmodel import Session, col

from cityshield.dedup.hub_context import HubContext
from cityshield.dedup.models import NetworkIOC, NetworkView
from cityshield.dedup.publish import network_indicator_id
from cityshield.delivery.models import DeliveryTarget
from cityshield.delivery.receipts import deliveries_to
from cityshield.errors import ObjectNotFound
from cityshield.members.caller import Caller
from cityshield.policy import service as policy
from cityshield.signing.models import SigningKey
from cityshield.soc.indicators import (
    IOC_COLUMNS,
    Seen,
    hub_kids,
    member_names,
    network,
    seen_iocs,
    shows_member,
    summaries,
)
from cityshield.soc.models import (
    ContributionPublic,
    DeliveryItem,
    IndicatorDetail,
    SignaturePublic,
    TimelineEvent,
    VersionPublic,
)
from cityshield.store.collections import SUBMISSIONS_ALIAS, get_collection_by_alias
from cityshield.store.models import StixObject
from cityshield.timefmt import format_timestamp, now_micros, parse_timestamp

_REF = re.compile(r"[0-9a-f]{32}")


def find_indicator(session: Session, *, caller: Caller, ref: str) -> Any:
    """The IOC row (``IOC_COLUMNS``) a ref names: the hex of its key digest, or the id of
    the network indicator the caller reads. ObjectNotFound when the caller may see no
    report of it, whether it exists or not."""
    collection = network(session)
    query = policy.visible_network_iocs(caller, collection, columns=IOC_COLUMNS)
    if _REF.fullmatch(ref):
        query = query.where(col(NetworkIOC.key_digest) == bytes.fromhex(ref))
    else:
        views = policy.visible_objects(caller, collection, StixObject.pk, StixObject.object_id)
        ioc_ids = [i for i, _ in session.execute(views.where(views.selected_columns[1] == ref))]
        query = query.where(col(NetworkIOC.id).in_(ioc_ids))
    row = session.execute(query).first()
    if row is None:
        raise ObjectNotFound(f"No indicator {ref[:120]!r} that you may see.")
    return row


def indicator_detail(
    session: Session, *, caller: Caller, context: HubContext, ref: str
) -> IndicatorDetail:
    ioc = find_indicator(session, caller=caller, ref=ref)
    (seen,) = seen_iocs(session, caller=caller, context=context, iocs=[ioc], now_us=now_micros())
    (summary,) = summaries(session, caller=caller, context=context, seen=[seen])
    body = _network_indicator(session, caller, ioc.id)
    contributions = _contributions(session, caller, seen)
    deliveries = _deliveries(session, caller, seen)
    return IndicatorDetail(
        indicator=summary,
        network_indicator=body,
        reports=[c for c in contributions if c.kind == "indicator"],
        sightings=[c for c in contributions if c.kind == "sighting"],
        deliveries=deliveries,
        timeline=_timeline(body, contributions, deliveries),
    )


def _network_indicator(session: Session, caller: Caller, ioc_id: int) -> dict[str, Any] | None:
    views = policy.visible_objects(caller, network(session), StixObject.pk, StixObject.body)
    row = session.execute(views.where(views.selected_columns[0] == ioc_id)).first()
    return orjson.loads(row[1]) if row is not None else None


def _contributions(session: Session, caller: Caller, seen: Seen) -> list[ContributionPublic]:
    submissions = get_collection_by_alias(session, SUBMISSIONS_ALIAS)
    ids = sorted({row.object_id for row in seen.rows})
    query = policy.visible_objects(
        caller,
        submissions,
        StixObject.object_id,
        StixObject.version_us,
        StixObject.date_added_us,
        StixObject.body,
    ).where(col(StixObject.object_id).in_(ids))
    versions: dict[str, list[VersionPublic]] = {}
    for object_id, version_us, added_us, body in session.execute(
        query.order_by(col(StixObject.object_id), col(StixObject.version_us))
    ):
        obj = orjson.loads(body)
        versions.setdefault(object_id, []).append(
            VersionPublic(
                version=format_timestamp(version_us),
                date_added=format_timestamp(added_us),
                revoked=bool(obj.get("revoked")),
                object=obj,
            )
        )
    hub = hub_kids(session)
    names = member_names(session, (row.member_id for row in seen.rows))
    keys = _keys(session, {row.kid for row in seen.rows if row.kid})
    now = now_micros()
    return [
        ContributionPublic(
            object_id=row.object_id,
            kind=row.kind,
            member=names.get(row.member_id) if shows_member(caller, row, hub) else None,
            yours=row.member_id == caller.member_id,
            tlp=row.tlp or caller.default_marking,
            confidence=row.confidence,
            first_seen=format_timestamp(row.first_seen_us),
            last_seen=format_timestamp(row.last_seen_us),
            valid_until=format_timestamp(row.valid_until_us) if row.valid_until_us else None,
            revoked=row.revoked,
            signature=_signature(row.kid, keys.get(row.kid or ""), now),
            versions=versions.get(row.object_id, []),
        )
        for row in seen.rows
    ]


def _keys(session: Session, kids: set[str]) -> dict[str, SigningKey]:
    query = select(SigningKey).where(col(SigningKey.kid).in_(sorted(kids)))
    return {key.kid: key for key in session.execute(query).scalars()}


def _signature(kid: str | None, key: SigningKey | None, now_us: int) -> SignaturePublic:
    """The signing key's standing now (every stored object was verified at ingest)."""
    if key is None:
        return SignaturePublic(kid=kid, signer="unknown", status="unknown-key")
    signer: Literal["hub", "member"] = "hub" if key.member_id is None else "member"
    if key.revoked_us is not None and key.revoked_us <= now_us:
        status = "key-revoked"
    elif key.not_after_us is not None and key.not_after_us <= now_us:
        status = "key-expired"
    else:
        status = "valid"
    return SignaturePublic(kid=kid, signer=signer, status=status)


def _deliveries(session: Session, caller: Caller, seen: Seen) -> list[DeliveryItem]:
    """Receipts of the IOC's network indicators (every generation of the views of the
    members concerned) and of its reports."""
    members = [caller.member_id]
    if caller.is_admin:
        members = list(session.execute(select(col(DeliveryTarget.member_id)).distinct()).scalars())
    # Views by primary key (member, IOC): the caller's own, or for an admin those of every
    # member with a delivery target; only their generations are read, to name the ids.
    generations = session.execute(
        select(col(NetworkView.generation)).where(
            col(NetworkView.member_id).in_(members), col(NetworkView.ioc_id) == seen.ioc.id
        )
    ).scalars()
    ids = {network_indicator_id(seen.ioc.key, g) for top in generations for g in range(top + 1)}
    ids |= {row.object_id for row in seen.rows}
    receipts = deliveries_to(
        session, object_ids=ids, member_id=None if caller.is_admin else caller.member_id
    )
    return [
        DeliveryItem(
            member=name,
            kind=kind,
            object_id=receipt.object_id,
            version=format_timestamp(receipt.version_us),
            status=receipt.status,
            delivered=format_timestamp(receipt.delivered_us),
            message=receipt.message,
        )
        for receipt, name, kind in receipts
    ]


def _timeline(
    body: dict[str, Any] | None,
    contributions: list[ContributionPublic],
    deliveries: list[DeliveryItem],
) -> list[TimelineEvent]:
    """Everything above as dated events, oldest first."""
    events: list[tuple[int, str, str, str | None]] = []
    for c in contributions:
        for index, version in enumerate(c.versions):
            if version.revoked:
                event = "revoked"
            elif c.kind == "sighting":
                event = "sighted"
            else:
                event = "reported" if index == 0 else "revised"
            events.append((parse_timestamp(version.date_added), event, c.object_id, c.member))
    if body is not None:
        events.append((parse_timestamp(body["created"]), "published", body["id"], None))
        if body.get("modified") != body["created"]:
            events.append((parse_timestamp(body["modified"]), "updated", body["id"], None))
    for d in deliveries:
        delivered = "delivered" if d.status == "delivered" else "rejected"
        events.append((parse_timestamp(d.delivered), delivered, d.object_id, d.member))
    events.sort(key=lambda e: (e[0], e[1], e[2], e[3] or ""))
    return [
        TimelineEvent(at=format_timestamp(at), event=event, object_id=object_id, member=member)
        for at, event, object_id, member in events
    ]
