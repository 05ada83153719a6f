"""Per-viewer network indicators: corroboration computed from only what the viewer may see.

When a viewer may see every original behind a stored network version, that stored,
hub-signed version is served as is. Otherwise the viewer gets this variant, built and signed
at read time from the contributions it may see, with the same id and version: counts,
confidence and contributing refs never include a report the viewer could not read.

A page's variants are built together: one query for their IOCs and one for the
contributions the viewer may see, not two per object. Signing dominates what is left
(~45 us a variant), so signed variants are kept in a bounded cache keyed by *everything*
they are built from: the IOC's published fields, the exact contribution rows the viewer may
see, its default marking and the version. Viewers who see the same rows share an entry;
a viewer who sees different rows can never get it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from collections.abc import Hashable
from typing import Any

import orjson
from sqlalchemy import select
from sqlmodel import Session

from cityshield.bulk import chunks
from cityshield.dedup.aggregate import corroborate
from cityshield.dedup.context import NetworkContext
from cityshield.dedup.models import NetworkIOC
from cityshield.dedup.publish import build_network_indicator
from cityshield.policy import service as policy
from cityshield.policy.caller import Caller

Version = tuple[str, int]
"""(network indicator id, version in epoch microseconds)"""


class _SignedVariants:
    """A thread-safe LRU of signed variant bodies (the server reads in a thread pool)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._bodies: OrderedDict[Hashable, str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> str | None:
        with self._lock:
            body = self._bodies.get(key)
            if body is not None:
                self._bodies.move_to_end(key)
            return body

    def put(self, key: Hashable, body: str) -> None:
        with self._lock:
            self._bodies[key] = body
            self._bodies.move_to_end(key)
            while len(self._bodies) > self._size:
                self._bodies.popitem(last=False)


_CACHE = _SignedVariants(10_000)


def variant_bodies(
    session: Session,
    *,
    caller: Caller,
    context: NetworkContext | None,
    versions: list[Version],
) -> dict[Version, str]:
    """The viewer's variants of these network versions; a version with nothing visible in
    it is absent from the result."""
    if context is None or not versions:
        return {}
    iocs = _iocs_by_indicator(session, sorted({object_id for object_id, _ in versions}))
    visible = _visible_contributions(session, caller, [ioc.id for ioc in iocs.values() if ioc.id])
    bodies: dict[Version, str] = {}
    for object_id, version_us in versions:
        ioc = iocs.get(object_id)
        rows = visible.get(ioc.id, []) if ioc is not None and ioc.id is not None else []
        if ioc is None or not rows:
            continue
        lifetime_us = context.lifetime_us(ioc.observable_type)
        key = (
            context.hub_kid,
            version_us,
            caller.default_marking,
            lifetime_us,
            tuple(getattr(ioc, name) for name in _PUBLISHED_FIELDS),
            tuple(tuple(row) for row in sorted(rows, key=lambda row: row.id)),
        )
        body = _CACHE.get(key)
        if body is None:
            summary = corroborate(
                rows,
                lifetime_us=lifetime_us,
                now_us=version_us,
                default_marking=caller.default_marking,
            )
            variant = build_network_indicator(ioc, summary, context=context, modified_us=version_us)
            body = orjson.dumps(variant).decode()
            _CACHE.put(key, body)
        bodies[(object_id, version_us)] = body
    return bodies


_PUBLISHED_FIELDS = (
    "indicator_id",
    "key",
    "pattern",
    "observable_type",
    "value",
    "created_us",
    "benign_reason",
)
"""The IOC fields :func:`build_network_indicator` reads (its corroboration comes from the
rows)."""


def _iocs_by_indicator(session: Session, indicator_ids: list[str]) -> dict[str, NetworkIOC]:
    found: dict[str, NetworkIOC] = {}
    for chunk in chunks(indicator_ids):
        query = select(NetworkIOC).where(NetworkIOC.indicator_id.in_(chunk))
        found.update({ioc.indicator_id: ioc for ioc in session.execute(query).scalars()})
    return found


def _visible_contributions(
    session: Session, caller: Caller, ioc_ids: list[int]
) -> dict[int, list[Any]]:
    found: dict[int, list[Any]] = defaultdict(list)
    for chunk in chunks(ioc_ids):
        query = policy.counted_contributions(list(chunk), caller)
        for row in session.execute(query):
            found[row.ioc_id].append(row)
    return found
