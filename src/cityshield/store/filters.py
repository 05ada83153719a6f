"""The filters of one TAXII request as SQL predicates over stored objects (or a member's
network views, which have the same columns).

Built by ``taxii.filters.parse_filters`` from the query string; applied here, below the
policy's base query, so every read narrows what the caller may see and never widens it.
``fingerprint`` binds a ``next`` token (``store.cursor``) to the filters it was issued for.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Select, false, or_

from cityshield.store.models import StixObject


@dataclass(frozen=True)
class Filters:
    """The filters of one request. ``fingerprint`` binds a ``next`` token to them."""

    added_after_us: int | None = None
    limit: int | None = None
    next_token: str | None = None
    ids: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    versions: tuple[str, ...] = ("last",)
    spec_versions: tuple[str, ...] = ()
    version_times_us: tuple[int, ...] = field(default=(), repr=False)

    @property
    def fingerprint(self) -> str:
        """Everything that shapes the result set except the cursor itself."""
        text = "|".join(
            [
                str(self.added_after_us),
                ",".join(self.ids),
                ",".join(self.types),
                ",".join(self.versions),
                ",".join(self.spec_versions),
            ]
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def for_object(self, object_id: str) -> Filters:
        """The same filters narrowed to one object (the endpoints under an object's id)."""
        return replace(self, ids=(object_id,))

    def apply(
        self, query: Select[Any], *, versions: bool = True, source: Any = StixObject
    ) -> Select[Any]:
        """Add the match predicates to a query over ``source`` (StixObject, or a table with
        its column names: see ``policy.service.object_source``)."""
        if self.ids:
            query = query.where(source.object_id.in_(self.ids))
        if self.types:
            query = query.where(source.type.in_(self.types))
        if self.spec_versions:
            query = query.where(source.spec_version.in_(self.spec_versions))
        if versions and "all" not in self.versions:
            clauses: list[Any] = []
            if "first" in self.versions:
                clauses.append(source.is_first)
            if "last" in self.versions:
                clauses.append(source.is_latest)
            if self.version_times_us:
                clauses.append(source.version_us.in_(self.version_times_us))
            query = query.where(or_(*clauses) if clauses else false())
        return query
