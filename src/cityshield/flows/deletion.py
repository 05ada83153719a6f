"""An admin's TAXII DELETE: of members' originals, or of a network indicator.

Deleting originals withdraws what they contributed, so the network view stops counting
them. A network indicator is derived from reports, so deleting its stored versions would
only hide it until the next report (and leave the IOC in every block list meanwhile):
instead the IOC is *withdrawn*, marked known-benign by an admin, which keeps it out of
every block export from then on, and every member's view is republished saying so.
"""

from __future__ import annotations

from sqlalchemy import delete, or_, select
from sqlmodel import Session, col

from cityshield.dedup.models import NetworkIOC, NetworkView
from cityshield.dedup.queue import mark_pending
from cityshield.dedup.service import withdraw_originals
from cityshield.errors import BadRequest, ObjectNotFound
from cityshield.members.caller import Caller
from cityshield.policy import service as policy
from cityshield.store.collections import NETWORK_ALIAS, SUBMISSIONS_ALIAS
from cityshield.store.filters import Filters
from cityshield.store.locks import lock_collection
from cityshield.store.models import Collection, StixObject
from cityshield.store.versions import refresh_version_flags

WITHDRAWN = "withdrawn by a hub admin"


def delete_object(
    session: Session, *, caller: Caller, collection: Collection, object_id: str, filters: Filters
) -> None:
    """Delete an object's matching versions, or withdraw a network indicator's IOC."""
    if collection.alias == NETWORK_ALIAS:
        withdraw_network_indicator(session, caller=caller, object_id=object_id)
        return
    delete_versions(
        session, caller=caller, collection=collection, object_id=object_id, filters=filters
    )


def delete_versions(
    session: Session, *, caller: Caller, collection: Collection, object_id: str, filters: Filters
) -> list[int]:
    """Delete the matching versions of a stored object (admin only); returns their row keys.

    The first/latest flags of what remains are recomputed in the same transaction so
    ``match[version]`` stays right after a partial delete. Originals in ``submissions``
    first withdraw what they contributed to the network view.
    """
    policy.require_admin(caller)
    if policy.object_source(caller, collection) is not StixObject:
        raise BadRequest("Network indicators are withdrawn, not deleted (flows.deletion).")
    query = filters.for_object(object_id).apply(
        policy.visible_objects(caller, collection, StixObject.pk)
    )
    pks = [row[0] for row in session.execute(query)]
    if not pks:
        raise ObjectNotFound(f"No object {object_id!r} matching the filters in this collection.")
    lock_collection(session, collection.id)
    if collection.alias == SUBMISSIONS_ALIAS:
        withdraw_originals(session, pks)
    session.execute(delete(StixObject).where(StixObject.pk.in_(pks)))  # type: ignore[union-attr]
    refresh_version_flags(session, collection_id=collection.id, object_ids=[object_id])
    return pks


def withdraw_network_indicator(session: Session, *, caller: Caller, object_id: str) -> int:
    """Mark the IOC behind a network indicator id (any member's view of it, or the
    network-wide one) as withdrawn and queue it for publication; returns its IOC id."""
    policy.require_admin(caller)
    in_views = select(col(NetworkView.ioc_id)).where(col(NetworkView.object_id) == object_id)
    ioc: NetworkIOC | None = session.execute(
        select(NetworkIOC).where(
            or_(col(NetworkIOC.indicator_id) == object_id, col(NetworkIOC.id).in_(in_views))
        )
    ).scalar_one_or_none()
    if ioc is None or ioc.id is None:
        raise ObjectNotFound(f"No network indicator {object_id!r}.")
    ioc.benign_reason = WITHDRAWN
    session.add(ioc)
    mark_pending(session, [ioc.id])
    return ioc.id
