"""TAXII 2.1 query filters: parsed and checked once, then applied as SQL predicates.

Commas inside one ``match[...]`` are OR; different fields are AND (TAXII 2.1 section 3.6).
An odd value is a 400 with the reason, never a 500 and never silently ignored: a client
that believes it filtered must not receive unfiltered data.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, false, or_

from cityshield.errors import InvalidFilter
from cityshield.store.models import StixObject
from cityshield.timefmt import parse_timestamp

SUPPORTED_SPEC_VERSIONS = ("2.0", "2.1")
_MATCH_FIELDS = {"id", "type", "version", "spec_version"}
_VERSION_KEYWORDS = {"first", "last", "all"}


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


def _split(value: str, name: str) -> tuple[str, ...]:
    items = tuple(part.strip() for part in value.split(","))
    if not all(items):
        raise InvalidFilter(f"{name} has an empty value: {value!r}.")
    return items


def parse_filters(
    params: Mapping[str, str],
    *,
    allowed: frozenset[str],
    default_limit: int,
    max_limit: int,
) -> Filters:
    """Parse query parameters. ``allowed`` names the match fields this endpoint supports."""
    kwargs: dict[str, Any] = {}
    for key, value in params.items():
        if key == "added_after":
            try:
                kwargs["added_after_us"] = parse_timestamp(value)
            except ValueError as exc:
                raise InvalidFilter(f"added_after must be an RFC 3339 timestamp: {exc}.") from exc
        elif key == "limit":
            if not value.isdigit() or int(value) < 1:
                raise InvalidFilter(f"limit must be a positive integer, got {value!r}.")
            kwargs["limit"] = min(int(value), max_limit)
        elif key == "next":
            kwargs["next_token"] = value
        elif key.startswith("match[") and key.endswith("]"):
            _parse_match(key[6:-1], value, allowed, kwargs)
        elif key.startswith("match"):
            raise InvalidFilter(f"Malformed filter parameter {key!r}; use match[field].")
    kwargs.setdefault("limit", min(default_limit, max_limit))
    return Filters(**kwargs)


def _parse_match(field_name: str, value: str, allowed: frozenset[str], out: dict[str, Any]) -> None:
    if field_name not in _MATCH_FIELDS or field_name not in allowed:
        raise InvalidFilter(f"match[{field_name}] is not supported on this endpoint.")
    items = _split(value, f"match[{field_name}]")
    if field_name == "id":
        out["ids"] = items
    elif field_name == "type":
        out["types"] = items
    elif field_name == "spec_version":
        bad = [v for v in items if v not in SUPPORTED_SPEC_VERSIONS]
        if bad:
            raise InvalidFilter(
                f"match[spec_version] values must be one of {', '.join(SUPPORTED_SPEC_VERSIONS)}; "
                f"got {', '.join(bad)}."
            )
        out["spec_versions"] = items
    else:
        times: list[int] = []
        for item in items:
            if item in _VERSION_KEYWORDS:
                continue
            try:
                times.append(parse_timestamp(item))
            except ValueError as exc:
                raise InvalidFilter(
                    f"match[version] values are first, last, all or timestamps; got {item!r}."
                ) from exc
        out["versions"] = items
        out["version_times_us"] = tuple(times)
