"""What an analyst writes: a sighting of a network indicator, the revocation of one of the
caller's own reports. Both go through the one ingest path (``flows.ingest.add_objects``)
into ``submissions``, so they are validated, shared by the policy and counted by the
network exactly like anything a member posts over TAXII.

**Sightings are signed by the hub on the analyst's behalf.** The API holds no member's
private key, so the hub authors the sighting (``created_by_ref`` is the hub's identity, the
signature the hub's, as anyone checking it against the JWKS expects) and stores it as the
caller's: it corroborates the IOC as the caller's report (one more member unless the
caller already reported it), is shared as its TLP marking says, and names nobody to other
members (a hub-signed report is anonymous, see ``soc.indicators``). A city that wants its
own name and signature on a sighting submits it signed over TAXII.

**Revocations keep their author.** STIX lets only an object's creator version it, so a
report the member signed is revoked by a version the member signs: ``revocation_template``
gives the exact object to sign, ``revoke_report`` ingests it. A sighting the hub signed
for the caller is revoked by the hub at once. Another member's report, or an id that does
not exist, is the same 404: the answer never says whose a report is.
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from sqlmodel import Session, col

from cityshield.dedup.hub_context import HubContext
from cityshield.errors import BadRequest, Conflict, ObjectNotFound
from cityshield.flows.ingest import add_objects
from cityshield.members.caller import Caller
from cityshield.policy import service as policy
from cityshield.signing.placement import without_signature
from cityshield.soc.detail import find_indicator
from cityshield.soc.indicators import hub_kids, view_ids
from cityshield.soc.models import (
    RevocationResult,
    SightingReceipt,
    SightingRequest,
)
from cityshield.stix.vocabulary import TLP2_IDS, version_stamp
from cityshield.store.collections import SUBMISSIONS_ALIAS, get_collection_by_alias
from cityshield.store.models import StixObject
from cityshield.timefmt import format_timestamp, now_micros, parse_timestamp

REVOCABLE_TYPES = ("indicator", "sighting")


def report_sighting(
    session: Session,
    *,
    caller: Caller,
    context: HubContext,
    ref: str,
    request: SightingRequest,
    now_us: int | None = None,
) -> SightingReceipt:
    """Store the caller's sighting of an indicator it may see (ObjectNotFound otherwise)."""
    ioc = find_indicator(session, caller=caller, ref=ref)
    target = view_ids(session, caller=caller, ioc_ids=[ioc.id]).get(ioc.id)
    if target is None:
        raise Conflict("Your network indicator for it is being published; retry in a moment.")
    stamp = format_timestamp((now_us or now_micros()) // 1000 * 1000)
    first_seen = _timestamp("first_seen", request.first_seen) or stamp
    last_seen = _timestamp("last_seen", request.last_seen) or first_seen
    if parse_timestamp(last_seen) < parse_timestamp(first_seen):
        raise BadRequest("last_seen must not be earlier than first_seen.")
    sighting: dict[str, Any] = {
        "type": "sighting",
        "spec_version": "2.1",
        "id": f"sighting--{uuid.uuid4()}",
        "created": stamp,
        "modified": stamp,
        "sighting_of_ref": target,
        "first_seen": first_seen,
        "last_seen": last_seen,
    }
    if request.count is not None:
        sighting["count"] = request.count
    if request.confidence is not None:
        sighting["confidence"] = request.confidence
    if request.description:
        sighting["description"] = request.description
    if request.tlp is not None:
        sighting["object_marking_refs"] = [TLP2_IDS[request.tlp]]
    _ingest(session, caller, context, sighting, signed_by_hub=True)
    return SightingReceipt(id=sighting["id"], sighting_of_ref=target, created=stamp)


def _timestamp(name: str, text: str | None) -> str | None:
    if text is None:
        return None
    try:
        return format_timestamp(parse_timestamp(text))
    except ValueError:
        raise BadRequest(
            f"{name}: not an RFC 3339 timestamp, such as 2026-11-20T10:00:00Z."
        ) from None


def _own_latest(session: Session, caller: Caller, object_id: str) -> tuple[dict[str, Any], bool]:
    """The latest version of one of the caller's own reports, and whether the hub signed
    it; ObjectNotFound for anything else (absent, or someone else's: the same answer)."""
    submissions = get_collection_by_alias(session, SUBMISSIONS_ALIAS)
    query = policy.visible_objects(caller, submissions, StixObject.body, StixObject.kid).where(
        col(StixObject.object_id) == object_id,
        col(StixObject.is_latest),
        col(StixObject.submitter_id) == caller.member_id,
    )
    row = session.execute(query).first()
    if row is None:
        raise ObjectNotFound(f"No report of yours with id {object_id[:120]!r}.")
    obj = orjson.loads(row[0])
    if obj.get("type") not in REVOCABLE_TYPES:
        raise BadRequest(f"Only {' and '.join(REVOCABLE_TYPES)} reports are revoked here.")
    if obj.get("revoked") is True:
        raise Conflict(f"{object_id} is already revoked.")
    return obj, row[1] in hub_kids(session)


def revocation_template(
    session: Session, *, caller: Caller, object_id: str, now_us: int | None = None
) -> dict[str, Any]:
    """The revoked next version of the caller's report, unsigned: what the caller signs."""
    latest, _ = _own_latest(session, caller, object_id)
    return _revoked(latest, now_us or now_micros())


def _revoked(latest: dict[str, Any], now_us: int) -> dict[str, Any]:
    previous = parse_timestamp(version_stamp(latest) or format_timestamp(0))
    modified = max(now_us // 1000 * 1000, previous + 1000)
    return {**without_signature(latest), "modified": format_timestamp(modified), "revoked": True}


def revoke_report(
    session: Session,
    *,
    caller: Caller,
    context: HubContext,
    object_id: str,
    signed: dict[str, Any] | None = None,
    now_us: int | None = None,
) -> RevocationResult:
    """Revoke one of the caller's reports: with ``signed`` (the template signed by the
    caller's key, or a bundle of just that) for a report the caller signed, without it for
    one the hub signed on the caller's behalf."""
    latest, by_hub = _own_latest(session, caller, object_id)
    if by_hub:
        revoked = _revoked(latest, now_us or now_micros())
    else:
        if signed is None:
            raise BadRequest(
                "This report carries your signature: sign its revoked version (GET "
                f"/api/v1/reports/{object_id}/revocation) and send it as 'object'."
            )
        revoked = _single(signed)
        if revoked.get("id") != object_id or revoked.get("revoked") is not True:
            raise BadRequest(f"'object' must be a revoked version of {object_id}.")
    _ingest(session, caller, context, revoked, signed_by_hub=by_hub)
    return RevocationResult(
        id=object_id,
        version=version_stamp(revoked) or "",
        signed_by="hub" if by_hub else "member",
    )


def _single(signed: dict[str, Any]) -> dict[str, Any]:
    """The object itself, or the one object of a bundle (as ``cityshield sign`` prints)."""
    if signed.get("type") != "bundle":
        return signed
    objects = signed.get("objects")
    if not isinstance(objects, list) or len(objects) != 1 or not isinstance(objects[0], dict):
        raise BadRequest("A bundle sent as 'object' must hold exactly one object.")
    return objects[0]


def _ingest(
    session: Session,
    caller: Caller,
    context: HubContext,
    obj: dict[str, Any],
    *,
    signed_by_hub: bool,
) -> None:
    """Through the one ingest path; a refusal is a 400 with ingest's reason."""
    status = add_objects(
        session,
        caller=caller,
        collection=get_collection_by_alias(session, SUBMISSIONS_ALIAS),
        objects=[obj],
        network=context,
        signed_by_hub=signed_by_hub,
    )
    if status.failure_count:
        failures = orjson.loads(status.details)["failures"]
        raise BadRequest(f"Refused by ingest: {failures[0]['message']}")
