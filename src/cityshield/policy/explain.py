"""``policy explain``: which rule allowed or denied one member one object, replayed from the
same decision function that wrote the audience rows, and checked against the SQL predicate
every read path uses (a disagreement is reported, never hidden)."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import select
from sqlmodel import Session, col

from cityshield.errors import NotFound
from cityshield.members.caller import Caller
from cityshield.policy import service as policy
from cityshield.policy.audience import policy_state
from cityshield.policy.engine import decide, explain_for
from cityshield.store.collections import NETWORK_ALIAS
from cityshield.store.models import Collection, StixObject


def explain_object(session: Session, *, object_id: str, viewer: Caller) -> dict[str, Any]:
    """Why ``viewer`` (a member as it would authenticate:
    ``members.service.caller_for_member``) may or may not see the latest stored version of
    ``object_id``."""
    row = session.execute(
        select(StixObject, Collection)
        .join(Collection, col(Collection.id) == col(StixObject.collection_id))
        .where(col(StixObject.object_id) == object_id, col(Collection.alias) != NETWORK_ALIAS)
        .order_by(col(StixObject.is_latest).desc(), col(StixObject.date_added_us).desc())
        .limit(1)
    ).first()
    if row is None:
        raise NotFound(f"No stored object {object_id!r} (network indicators derive from theirs).")
    stored, collection = row
    state = policy_state(session)
    obj = orjson.loads(stored.body)
    decision = decide(state.subject(obj, stored.submitter_id, stored.kid), state.document)
    allowed, reasons = explain_for(
        decision,
        viewer=viewer.name,
        viewer_groups=viewer.groups,
        viewer_is_admin=viewer.is_admin,
        is_submitter=stored.submitter_id == viewer.member_id,
    )
    if not policy.can_read(viewer, collection):
        allowed = False
        reasons.append(f"{viewer.name}'s role may not read collection {collection.alias}")
    enforced = session.execute(
        select(col(StixObject.pk)).where(
            col(StixObject.pk) == stored.pk, policy.readable(viewer, StixObject)
        )
    ).first() is not None and policy.can_read(viewer, collection)
    if enforced != allowed:
        reasons.append(
            "the stored audience disagrees with the policy: run `cityshield policy load` "
            "to recompute it"
        )
    return {
        "object": object_id,
        "collection": collection.alias,
        "member": viewer.name,
        "member_groups": sorted(viewer.groups),
        "allowed": enforced,
        "policy_allows": allowed,
        "reasons": reasons,
    }
