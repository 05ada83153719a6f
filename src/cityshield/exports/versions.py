"""Versions of a member's lists: the ``ETag`` and the ``since`` token.

A list is a function of the member's own views, the query, the hub's allowlist and range
limits and the member's default marking: nothing else, not even the clock. A view changes
only by taking a new ``date_added`` (a new IOC, a new version, a hide: ``dedup/views.py``),
so the newest ``date_added`` among the member's views (one index lookup) plus fingerprints
of the rest version the list: ``If-None-Match`` is answered 304 without reading an entry.

``since`` tokens are ``next`` tokens (``store.cursor``): a ``date_added`` position and the
fingerprints they were issued for, ``FILTERS.CONTEXT``. Another request's token is refused
(400, as a ``next`` token is), but a token from before the hub changed its side (a policy
threshold, the allowlist, a limit) restarts the delta from the beginning: every entry is
then an add or a remove, so a consumer applying deltas misses nothing.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from functools import lru_cache

from cityshield.dedup.allowlist import Allowlist
from cityshield.errors import InvalidFilter
from cityshield.exports.query import ExportQuery, ExportRequest, since_timestamp
from cityshield.exports.values import ValueLimits
from cityshield.store.cursor import encode_cursor, split_cursor

EXPORT_VERSION = "1"
"""Bumped when a format writes other bytes for the same inputs, so old ETags stop matching."""


def _digest(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


@lru_cache(maxsize=8)
def _allowlist_digest(allowlist: Allowlist) -> str:
    return _digest(sorted(map(str, allowlist.networks)), sorted(allowlist.domains))


@dataclass(frozen=True)
class ListStamp:
    """Fingerprints of what the client asked for and of what the hub decided."""

    filters: str
    context: str

    @property
    def issued_for(self) -> str:
        return f"{self.filters}.{self.context}"


def stamp_of(
    request: ExportRequest,
    query: ExportQuery,
    *,
    allowlist: Allowlist,
    limits: ValueLimits,
    default_marking: str,
) -> ListStamp:
    asked = dataclasses.replace(request, since=None)
    return ListStamp(
        filters=_digest(asked),
        context=_digest(
            EXPORT_VERSION,
            query.fingerprint_parts(),
            _allowlist_digest(allowlist),
            limits,
            default_marking,
        ),
    )


def since_position(since: str | None, stamp: ListStamp) -> int | None:
    """The ``date_added`` a delta starts after, or None for a whole list."""
    if since is None:
        return None
    at = since_timestamp(since)
    if at is not None:
        return at
    position, issued_for = split_cursor(since, "since")
    filters, _, context = issued_for.partition(".")
    if filters != stamp.filters:
        raise InvalidFilter(
            "since token was issued for other parameters; repeat them unchanged "
            "(or start again without since)."
        )
    return position if context == stamp.context else 0


def next_since(version: int, stamp: ListStamp) -> str:
    return encode_cursor(version, stamp.issued_for)


def etag_of(stamp: ListStamp, version: int, after: int | None) -> str:
    return f'"{_digest(stamp.issued_for, version, after)}"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 13.1.2: a list of entity tags (weak comparison) or ``*``."""
    if not if_none_match:
        return False
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == etag:
            return True
    return False
