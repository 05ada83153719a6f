"""Anonymous submissions: the hub republishes the object under its own identity and
signature; the original (and who signed it) stays visible only to its submitter and admins.

The republication keeps the original's content and markings but not its author: the
signature, the audience extension and ``created_by_ref`` are replaced, and the id is
derived from the original's so a re-submission maps to the same republished object.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import Session

from cityshield.dedup.hub_context import HubContext
from cityshield.policy.audience import PolicyState, write_audience
from cityshield.policy.engine import AUDIENCE_EXTENSION_ID
from cityshield.signing.scheme import SIGNATURE_EXTENSION_ID, sign_object
from cityshield.store.models import Collection
from cityshield.store.writer import Written, write_hub_objects

ANONYMOUS_NAMESPACE = uuid.UUID("6f1c3a52-3d1e-4c55-9a0e-c1d5e1e5a004")
_AUTHOR_EXTENSIONS = (SIGNATURE_EXTENSION_ID, AUDIENCE_EXTENSION_ID)


def republished_id(original_id: str) -> str:
    object_type = original_id.split("--", 1)[0]
    return f"{object_type}--{uuid.uuid5(ANONYMOUS_NAMESPACE, original_id)}"


def anonymised_copy(obj: dict[str, Any], context: HubContext) -> dict[str, Any]:
    """The hub-authored, hub-signed stand-in for an anonymous member's object."""
    copy = {key: value for key, value in obj.items() if key != "created_by_ref"}
    copy["id"] = republished_id(obj["id"])
    if "created" in copy:
        copy["created_by_ref"] = context.hub_identity_id
    extensions = {
        name: value
        for name, value in (obj.get("extensions") or {}).items()
        if name not in _AUTHOR_EXTENSIONS
    }
    if extensions:
        copy["extensions"] = extensions
    else:
        copy.pop("extensions", None)
    return sign_object(copy, context.hub_key, kid=context.hub_kid)


def republish_anonymous(
    session: Session,
    *,
    state: PolicyState,
    context: HubContext,
    collection: Collection,
    written: list[Written],
) -> list[Written]:
    """Republish the anonymous ones among ``written``; returns what should feed the
    network view: each anonymous original replaced by its republication."""
    result: list[Written] = []
    for item in written:
        if not state.subject(item.obj, item.submitter_id, item.kid).anonymous:
            result.append(item)
            continue
        stored = write_hub_objects(
            session,
            collection=collection,
            objects=[anonymised_copy(item.obj, context)],
            kid=context.hub_kid,
            on_behalf_of=item.submitter_id,
        ).written
        write_audience(session, state, [(w.pk, w.obj, w.submitter_id, w.kid) for w in stored])
        result.extend(stored)
    return result
