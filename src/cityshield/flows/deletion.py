"""An admin's TAXII DELETE: of members' originals, or of a network indicator.

Deleting originals withdraws what they contributed, so the network view stops counting
them. A network indicator is derived from reports, so deleting its stored versions would
only hide it until the next report (and leave the IOC in every block list meanwhile):
instead the IOC is *withdrawn*, marked known-benign by an admin, which keeps it out of
every block export from then on, and every member's view is republished saying so.
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlmodel import Session

from cityshield.dedup.models import NetworkIOC, NetworkView
from cityshield.dedup.queue import mark_pending
from cityshield.dedup.service import withdraw_originals
from cityshield.errors import ObjectNotFound
from cityshield.members.caller import Caller
from cityshield.policy import service as policy
from cityshield.store import service as store
from cityshield.store.collections import NETWORK_ALIAS, SUBMISSIONS_ALIAS
from cityshield.store.models import Collection
from cityshield.taxii.filters import Filters

WITHDRAWN = "withdrawn by a hub admin"


def delete_object(
    session: Session, *, caller: Caller, collection: Collection, object_id: str, filters: Filters
) -> None:
    """Delete an object's matching versions, or withdraw a network indicator's IOC."""
    if collection.alias == NETWORK_ALIAS:
        withdraw_network_indicator(session, caller=caller, object_id=object_id)
        return
    store.delete_object(
        session,
        caller=caller,
        collection=collection,
        object_id=object_id,
        filters=filters,
        before_delete=withdraw_originals if collection.alias == SUBMISSIONS_ALIAS else None,
    )


def withdraw_network_indicator(session: Session, *, caller: Caller, object_id: str) -> int:
    """Mark the IOC behind a network indicator id (any member's view of it, or the
    network-wide one) as withdrawn and queue it for publication; returns its IOC id."""
    policy.require_admin(caller)
    in_views = select(NetworkView.ioc_id).where(NetworkView.object_id == object_id)
    ioc = session.execute(
        select(NetworkIOC).where(
            or_(NetworkIOC.indicator_id == object_id, NetworkIOC.id.in_(in_views))
        )
    ).scalar_one_or_none()
    if ioc is None or ioc.id is None:
        raise ObjectNotFound(f"No network indicator {object_id!r}.")
    ioc.benign_reason = WITHDRAWN
    session.add(ioc)
    mark_pending(session, [ioc.id])
    return ioc.id
