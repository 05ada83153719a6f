"""Which entries a list holds: firewall safety, known-benign values, thresholds, ``max``.

Every decision here reads only the entry (the member's own view of the IOC), the query and
the hub's configuration, so what a member's list holds, its order and where it is cut are
functions of what that member may see.

``max`` keeps the entries that matter most: more corroborating members first, then higher
confidence, then the most recently seen, then by value (so the cut is deterministic). The
list itself is written sorted by type and value, so that a file's diff shows what changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from cityshield.dedup.allowlist import Allowlist
from cityshield.exports.entries import Entry
from cityshield.exports.query import ExportQuery
from cityshield.exports.values import EXPORT_TYPES, ValueLimits, bare_url, ip_network
from cityshield.stix.vocabulary import TLP_ORDER


@dataclass(frozen=True)
class Line:
    """An entry as a list writes it: ``value`` is the form the format wants."""

    entry: Entry
    value: str


@dataclass
class Selection:
    """What a list holds (in output order), what a delta removes, and what was left out."""

    listed: list[Line] = field(default_factory=list)
    removed: list[Entry] = field(default_factory=list)
    """In a delta: entries that changed and are not (or no longer) in the list."""
    total: int = 0
    """Entries the list would hold without ``max``."""
    refused: int = 0
    """Values left out as unsafe for the format or wider than the range limits."""

    @property
    def truncated(self) -> bool:
        return self.total > len(self.listed)


def exported_value(entry: Entry, query: ExportQuery, limits: ValueLimits) -> str | None:
    """The value as this list writes it, or None when it cannot be written safely."""
    if entry.observable_type in ("ipv4-addr", "ipv6-addr"):
        network = ip_network(entry.value)
        return None if network is None or limits.too_wide(network) else entry.value
    if entry.observable_type == "url" and query.url_form == "bare":
        return bare_url(entry.value)
    return entry.value


def _passes(entry: Entry, query: ExportQuery, default_marking: str) -> bool:
    level = entry.tlp or default_marking
    return (
        entry.members >= query.min_members
        and entry.confidence >= query.min_confidence
        and TLP_ORDER.index(level) <= TLP_ORDER.index(query.tlp)
    )


def _priority(line: Line) -> tuple[int, int, int, str, str]:
    entry = line.entry
    return (
        -entry.members,
        -entry.confidence,
        -entry.last_seen_us,
        entry.observable_type,
        line.value,
    )


def _order(line: Line) -> tuple[int, str]:
    return (EXPORT_TYPES.index(line.entry.observable_type), line.value)


def select_entries(
    entries: Iterable[Entry],
    *,
    query: ExportQuery,
    allowlist: Allowlist,
    limits: ValueLimits,
    default_marking: str,
    delta: bool,
) -> Selection:
    """The list these entries make; for a ``delta`` (entries that changed), also the
    entries that are not in it (any more)."""
    selection = Selection()
    candidates: list[Line] = []
    out = selection.removed if delta else []
    for entry in entries:
        if not entry.active:
            out.append(entry)
            continue
        value = exported_value(entry, query, limits)
        if value is None:
            selection.refused += 1
            out.append(entry)
        elif (
            entry.benign
            or allowlist.reason(entry.observable_type, entry.value) is not None
            or not _passes(entry, query, default_marking)
        ):
            out.append(entry)
        else:
            candidates.append(Line(entry, value))
    selection.total = len(candidates)
    if query.max is not None and len(candidates) > query.max:
        candidates = sorted(candidates, key=_priority)[: query.max]
    selection.listed = sorted(candidates, key=_order)
    return selection
