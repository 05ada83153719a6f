"""``is_first``/``is_latest``: maintained at write and delete time, so ``match[version]``
is an indexed predicate inside the keyset query rather than a GROUP BY per read."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlmodel import Session

from cityshield.bulk import chunks
from cityshield.store.models import StixObject

_OBJECTS = StixObject.__table__  # type: ignore[attr-defined]


def refresh_version_flags(session: Session, *, collection_id: str, object_ids: list[str]) -> None:
    """Recompute is_first/is_latest for the given objects from what is stored.

    One set-based UPDATE per 500 ids with correlated MIN/MAX (Core, on the connection):
    republishing thousands of network indicators must not cost one statement each.
    """
    other = _OBJECTS.alias("other")

    def bound(aggregate: Any) -> Any:
        return (
            select(aggregate(other.c.version_us))
            .where(
                other.c.collection_id == _OBJECTS.c.collection_id,
                other.c.object_id == _OBJECTS.c.object_id,
            )
            .scalar_subquery()
        )

    for chunk in chunks(object_ids):
        session.connection().execute(
            update(_OBJECTS)
            .where(
                _OBJECTS.c.collection_id == collection_id,
                _OBJECTS.c.object_id.in_(chunk),
            )
            .values(
                is_first=_OBJECTS.c.version_us == bound(func.min),
                is_latest=_OBJECTS.c.version_us == bound(func.max),
            )
        )
