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
from cityshield.exports.values import EXPORT_TYPES, IP_VERSIONS, ValueLimits, bare_url
from cityshield.stix.addresses import Span, parse_span
from cityshield.stix.vocabulary import TLP_ORDER
from cityshield.timefmt import parse_timestamp


@dataclass(frozen=True, slots=True)
class Line:
    """An entry as a list writes it: ``value`` is the form the format wants."""

    entry: Entry
    value: str
    span: Span | None = None
    """The addresses of an IP value."""


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


def exported_line(entry: Entry, query: ExportQuery, limits: ValueLimits) -> Line | None:
    """The entry as this list writes it, or None when it cannot be written safely."""
    if entry.observable_type in IP_VERSIONS:
        span = entry.span or parse_span(entry.value)
        if span is None or limits.too_wide(span):
            return None
        return Line(entry, entry.value, span)
    if entry.observable_type == "url" and query.url_form == "bare":
        bare = bare_url(entry.value)
        return None if bare is None else Line(entry, bare)
    return Line(entry, entry.value)


def _allowlisted(entry: Entry, line: Line, allowlist: Allowlist) -> bool:
    if line.span is not None:  # the allowlist's own check, without parsing the value again
        return allowlist.reason_for_span(line.span) is not None
    return allowlist.reason(entry.observable_type, entry.value) is not None


def _passes(entry: Entry, query: ExportQuery, default_marking: str) -> bool:
    level = entry.tlp or default_marking
    return (
        entry.members >= query.min_members
        and entry.confidence >= query.min_confidence
        and TLP_ORDER.index(level) <= TLP_ORDER.index(query.tlp)
    )


def _priority(line: Line) -> tuple[int, int, int, str, str]:
    entry = line.entry
    last_seen = parse_timestamp(entry.last_seen)
    return (-entry.members, -entry.confidence, -last_seen, entry.observable_type, line.value)


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
        line = exported_line(entry, query, limits)
        if line is None:
            selection.refused += 1
            out.append(entry)
        elif (
            entry.benign
            or not _passes(entry, query, default_marking)
            or _allowlisted(entry, line, allowlist)
        ):
            out.append(entry)
        else:
            candidates.append(line)
    selection.total = len(candidates)
    if query.max is not None and len(candidates) > query.max:
        candidates = sorted(candidates, key=_priority)[: query.max]
    selection.listed = sorted(candidates, key=_order)
    return selection
