"""The five formats, each written as its consumer reads it.

* ``edl``: one value per line, LF-terminated, nothing else (no comments: PAN-OS and
  FortiGate read every line as an entry).
* ``csv``: RFC 4180 with a header row; a delta marks removals with ``action=remove``.
* ``stix``: a STIX 2.1 bundle of the member's own network indicators, exactly as signed
  (stored bytes joined, never re-serialised); its id is derived from the list's ETag so the
  same list is the same bytes.
* ``zeek``: an Intel framework file: the ``#fields`` header, then tab-separated
  ``indicator``, ``indicator_type`` (``Intel::ADDR``, ``SUBNET``, ``DOMAIN``, ``URL``,
  ``EMAIL``, ``FILE_HASH``), ``meta.source``, ``meta.desc``, ``meta.url`` (``-`` = empty).
* ``suricata``: an IP reputation file, ``ip,category,score`` per line (score 1..127 from
  confidence 0..100), for the categories file :func:`suricata_categories` writes.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable

from cityshield.exports.entries import Entry
from cityshield.exports.query import ExportQuery
from cityshield.exports.select import Line, Selection
from cityshield.exports.values import ValueLimits, collapse
from cityshield.stix.addresses import Span

BUNDLE_NAMESPACE = uuid.UUID("3b0f5b8e-6c1d-4f0a-9d2e-7a4c5b6e8f90")
Written = tuple[str, Span | None]
"""A value as written, and its addresses (for an IP value)."""
Rendered = tuple[str, int]
"""A body and how many entries it holds."""
Renderer = Callable[[Selection, ExportQuery, ValueLimits, str], Rendered]
CSV_FIELDS = (
    "action",
    "type",
    "value",
    "confidence",
    "members",
    "first_seen",
    "last_seen",
    "tlp",
    "indicator_id",
)
ZEEK_HEADER = "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\tmeta.url\n"
ZEEK_TYPES = {
    "domain-name": "Intel::DOMAIN",
    "url": "Intel::URL",
    "email-addr": "Intel::EMAIL",
    "file": "Intel::FILE_HASH",
}
ZEEK_SOURCE = "cityshield"
SURICATA_CATEGORY_NAME = "CityShield"
MEDIA_TYPES = {
    "edl": "text/plain; charset=utf-8",
    "csv": "text/csv; charset=utf-8; header=present",
    "stix": "application/stix+json;version=2.1",
    "zeek": "text/plain; charset=utf-8",
    "suricata": "text/csv; charset=utf-8",
}


def _ip_lines(lines: list[Line], query: ExportQuery, limits: ValueLimits) -> list[Written]:
    """The lines' values, or with ``collapse`` the blocks holding exactly their addresses."""
    spans = [line.span for line in lines if line.span is not None]
    if not query.collapse or len(spans) != len(lines):
        return [(line.value, line.span) for line in lines]
    return [(block.text, block) for block in collapse(spans, limits)]


def edl(selection: Selection, query: ExportQuery, limits: ValueLimits, _tag: str) -> Rendered:
    listed = _ip_lines(selection.listed, query, limits)
    return "".join(f"{value}\n" for value, _ in listed), len(listed)


def _csv_row(action: str, entry: Entry, value: str | None) -> list[str]:
    if action == "remove":
        return [action, entry.observable_type, entry.value, "", "", "", "", "", entry.indicator_id]
    return [
        action,
        entry.observable_type,
        value or entry.value,
        str(entry.confidence),
        str(entry.members),
        entry.first_seen,
        entry.last_seen,
        entry.tlp or "",
        entry.indicator_id,
    ]


def csv_rows(selection: Selection, _q: ExportQuery, _l: ValueLimits, _tag: str) -> Rendered:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_FIELDS)
    for line in selection.listed:
        writer.writerow(_csv_row("add", line.entry, line.value))
    for entry in sorted(selection.removed, key=lambda e: (e.observable_type, e.value)):
        writer.writerow(_csv_row("remove", entry, None))
    return buffer.getvalue(), len(selection.listed) + len(selection.removed)


def stix(selection: Selection, _q: ExportQuery, _l: ValueLimits, tag: str) -> Rendered:
    """The listed indicators, and in a delta the revoked or expired ones (their body says
    so); a removal with no revoked body to show (hidden, or filtered out while active)
    cannot be said in STIX and is only counted (X-CityShield-Removals)."""
    bodies = [line.entry.body or "" for line in selection.listed]
    bodies += [e.body for e in stix_removals(selection) if e.body]
    bundle_id = f"bundle--{uuid.uuid5(BUNDLE_NAMESPACE, tag)}"
    return f'{{"type":"bundle","id":"{bundle_id}","objects":[{",".join(bodies)}]}}', len(bodies)


def stix_removals(selection: Selection) -> list[Entry]:
    """Removals a bundle can carry: indicators whose own body says they are revoked."""
    removed = [e for e in selection.removed if e.state in ("revoked", "expired") and e.body]
    return sorted(removed, key=lambda e: (e.observable_type, e.value))


def _zeek_type(line: Line) -> str:
    if line.span is not None:
        single = line.span.prefixlen == (32 if line.span.version == 4 else 128)
        return "Intel::ADDR" if single else "Intel::SUBNET"
    return ZEEK_TYPES[line.entry.observable_type]


def zeek(selection: Selection, _q: ExportQuery, _l: ValueLimits, _tag: str) -> Rendered:
    rows = [ZEEK_HEADER]
    for line in selection.listed:
        entry = line.entry
        desc = (
            f"{entry.members} member(s), confidence {entry.confidence}, "
            f"last seen {entry.last_seen}, {entry.indicator_id}"
        )
        rows.append(f"{line.value}\t{_zeek_type(line)}\t{ZEEK_SOURCE}\t{desc}\t-\n")
    return "".join(rows), len(rows) - 1


def suricata_score(confidence: int) -> int:
    """Suricata reputation scores run 1..127 (0 means no data): confidence scaled."""
    return max(1, min(127, round(confidence * 127 / 100)))


def suricata(selection: Selection, query: ExportQuery, limits: ValueLimits, _tag: str) -> Rendered:
    """Collapsing merges only addresses of equal score, so every address keeps its own."""
    by_score: dict[int, list[Line]] = {}
    for line in selection.listed:
        by_score.setdefault(suricata_score(line.entry.confidence), []).append(line)
    rows: list[tuple[int, Written]] = []
    for score, lines in by_score.items():
        rows += [(score, written) for written in _ip_lines(lines, query, limits)]
    rows.sort(key=lambda row: _address_order(row[1][1]))
    body = "".join(f"{value},{query.category},{score}\n" for score, (value, _) in rows)
    return body, len(rows)


def _address_order(span: Span | None) -> tuple[int, int, int]:
    return (0, 0, 0) if span is None else (span.version, span.first, span.prefixlen)


def suricata_categories(category: int) -> str:
    """The categories file the reputation file refers to (``id,short name,description``)."""
    return f"{category},{SURICATA_CATEGORY_NAME},cityshield network indicators\n"


RENDERERS: dict[str, Renderer] = {
    "edl": edl,
    "csv": csv_rows,
    "stix": stix,
    "zeek": zeek,
    "suricata": suricata,
}


def render(selection: Selection, query: ExportQuery, limits: ValueLimits, tag: str) -> Rendered:
    """The body and how many entries (lines, objects, rows) it holds; ``tag`` names the
    list's version (the bundle id is derived from it)."""
    return RENDERERS[query.format](selection, query, limits, tag)
