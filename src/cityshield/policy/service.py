"""The single point of control for who may read or write what.

Every read of STIX content starts from :func:`visible_objects`; every write calls
:func:`require_can_write`. An endpoint added later cannot leak data by forgetting a filter,
because there is no other way to get a query over stored objects.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, exists, select

from cityshield.dedup.models import Contribution, NetworkIOC
from cityshield.errors import Forbidden
from cityshield.policy.caller import Caller
from cityshield.signing.models import SigningKey
from cityshield.store.models import Collection, StixObject


def _roles(csv: str) -> set[str]:
    return {role.strip() for role in csv.split(",") if role.strip()}


def can_read(caller: Caller, collection: Collection) -> bool:
    return caller.is_admin or caller.role in _roles(collection.read_roles)


def can_write(caller: Caller, collection: Collection) -> bool:
    return caller.is_admin or caller.role in _roles(collection.write_roles)


def require_can_read(caller: Caller, collection: Collection) -> None:
    if not can_read(caller, collection):
        raise Forbidden(f"'{caller.name}' may not read collection {collection.id}.")


def require_can_write(caller: Caller, collection: Collection) -> None:
    if not can_write(caller, collection):
        raise Forbidden(f"'{caller.name}' may not write to collection {collection.id}.")


def require_can_use(caller: Caller, collection: Collection) -> tuple[bool, bool]:
    """(can_read, can_write) for a collection the caller may read or write; Forbidden if neither."""
    readable, writable = can_read(caller, collection), can_write(caller, collection)
    if not (readable or writable):
        raise Forbidden(f"'{caller.name}' may not use collection {collection.id}.")
    return readable, writable


def require_admin(caller: Caller) -> None:
    if not caller.is_admin:
        raise Forbidden("This operation needs the admin role.")


def visible_objects(caller: Caller, collection: Collection, *columns: Any) -> Select[Any]:
    """Base query for every STIX read: the rows of ``collection`` that ``caller`` may see.

    Raises Forbidden when the caller may not read the collection at all. Callers add
    filters, keyset bounds and ordering on top; they never start from a bare select.
    """
    require_can_read(caller, collection)
    return select(*(columns or (StixObject,))).where(
        StixObject.collection_id == collection.id, not_quarantined()
    )


def not_quarantined() -> ColumnElement[bool]:
    """Objects signed by a compromised key and received since the compromise stay hidden
    from every read path until an admin lifts the quarantine."""
    return ~exists().where(
        SigningKey.kid == StixObject.kid,
        SigningKey.compromised_since_us.is_not(None),  # type: ignore[union-attr]
        StixObject.date_added_us >= SigningKey.compromised_since_us,
    )


def counted_contributions(ioc_ids: list[int]) -> Select[Any]:
    """Contributions that may count in the network-wide corroboration of these IOCs.

    A contribution counts only while its original is readable: one whose original is
    quarantined must not keep vouching for an IOC, nor reveal that it exists.
    """
    return (
        select(Contribution)
        .join(StixObject, StixObject.pk == Contribution.stix_pk)
        .where(Contribution.ioc_id.in_(ioc_ids), not_quarantined())
    )


def visible_network_iocs(caller: Caller, network: Collection) -> Select[Any]:
    """Base query for every read of network IOC rows (exports, analyst views)."""
    require_can_read(caller, network)
    return select(NetworkIOC)
