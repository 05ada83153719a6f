"""Network indicators as the signed-in member sees them: the newest, the most corroborated.

Both start from the policy's base query over the ``network`` collection
(``policy.visible_objects``): a member reads its own views there (each built only from the
reports it may see), an admin the network-wide versions. Every number shown comes from the
indicator body that member receives over TAXII, and every order from values in it (or its
``date_added`` in that member's view), so neither the rows, their numbers nor their order
can depend on a report the member may not see.

Search and lookup results are the analyst service's summaries (``soc``), shown as the same
rows (:func:`summary_row`), so every table of indicators on the page reads alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Integer, Select, cast, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Session

from cityshield.dedup.publish import CORROBORATION_EXTENSION_ID
from cityshield.members.caller import Caller
from cityshield.policy import service as policy
from cityshield.soc.models import IndicatorSummary
from cityshield.stix.vocabulary import TLP2
from cityshield.store.collections import NETWORK_ALIAS, get_collection_by_alias
from cityshield.store.filters import Filters
from cityshield.store.models import StixObject
from cityshield.timefmt import format_timestamp

DASHBOARD_ROWS = 10


@dataclass(frozen=True)
class IndicatorRow:
    """One network indicator, as a table row of the page: from a network indicator body
    (the dashboard) or an analyst summary (search, lookup)."""

    id: str
    """The network indicator's id (a summary's ``ref`` before its first publication)."""
    ref: str
    """What the detail page is opened with: the IOC's ``ref``, or this indicator's id."""
    name: str
    value: str
    """The observable's value (the name without its type), or the name of a compound one."""
    observable_type: str
    member_count: int
    report_count: int
    sighting_count: int
    confidence: int | None
    state: str
    tlp: str | None
    urgent: bool
    benign: bool
    first_seen: str | None
    last_seen: str | None
    modified: str | None
    date_added: str | None
    """When it changed in the caller's view (dashboard rows only)."""
    contributors: tuple[str, ...] = ()
    """Members named among the counted reports (summary rows only)."""


def indicator_row(body: str, date_added_us: int) -> IndicatorRow:
    """The row of one stored network indicator body (the JSON the member is served)."""
    obj: dict[str, Any] = orjson.loads(body)
    ext: dict[str, Any] = obj.get("extensions", {}).get(CORROBORATION_EXTENSION_ID, {})
    levels = [TLP2[m] for m in obj.get("object_marking_refs", []) if m in TLP2]
    name: str = obj.get("name", obj["id"])
    observable_type: str = ext.get("observable_type", "")
    return IndicatorRow(
        id=obj["id"],
        ref=obj["id"],
        name=name,
        value=name.removeprefix(f"{observable_type} ") if observable_type else name,
        observable_type=observable_type,
        member_count=int(ext.get("member_count", 0)),
        report_count=int(ext.get("report_count", 0)),
        sighting_count=int(ext.get("sighting_count", 0)),
        confidence=obj.get("confidence"),
        state=ext.get("state", "revoked" if obj.get("revoked") else "active"),
        tlp=levels[0] if levels else None,
        urgent=bool(ext.get("urgent", False)),
        benign="benign_reason" in ext,
        first_seen=ext.get("first_seen"),
        last_seen=ext.get("last_seen"),
        modified=obj.get("modified", ""),
        date_added=format_timestamp(date_added_us),
    )


def summary_row(summary: IndicatorSummary) -> IndicatorRow:
    """The row of an analyst summary (``soc``'s search and lookup answers): the same
    figures, computed by the soc service from the reports the caller may see."""
    figures = summary.corroboration
    value = summary.value if summary.value is not None else summary.pattern
    return IndicatorRow(
        id=summary.indicator_id or summary.ref,
        ref=summary.ref,
        name=f"{summary.observable_type} {value}",
        value=value,
        observable_type=summary.observable_type,
        member_count=figures.members,
        report_count=figures.reports,
        sighting_count=figures.sightings,
        confidence=figures.confidence,
        state=figures.state,
        tlp=figures.tlp,
        urgent=figures.urgent,
        benign=summary.benign_reason is not None,
        first_seen=figures.first_seen,
        last_seen=figures.last_seen,
        modified=None,
        date_added=None,
        contributors=tuple(summary.contributors),
    )


def _network_indicators(session: Session, caller: Caller) -> tuple[Select[Any], Any] | None:
    """The caller's latest network indicators (body, date_added) and the table they come
    from, or None if its role may not read the network collection."""
    network = get_collection_by_alias(session, NETWORK_ALIAS)
    if not policy.can_read(caller, network):
        return None
    source = policy.object_source(caller, network)
    query = policy.visible_objects(caller, network, StixObject.body, StixObject.date_added_us)
    query = Filters().apply(query, source=source).where(source.type == "indicator")
    return query, source


def _rows(session: Session, query: Select[Any]) -> list[IndicatorRow]:
    return [indicator_row(body, added) for body, added in session.execute(query)]


def newest_indicators(
    session: Session, *, caller: Caller, limit: int = DASHBOARD_ROWS
) -> list[IndicatorRow] | None:
    """The network indicators that most recently changed in the caller's view, newest
    first (by its ``date_added``), or None if it may not read the network collection."""
    found = _network_indicators(session, caller)
    if found is None:
        return None
    query, source = found
    return _rows(session, query.order_by(source.date_added_us.desc()).limit(limit))


def most_corroborated(
    session: Session, *, caller: Caller, limit: int = DASHBOARD_ROWS
) -> list[IndicatorRow] | None:
    """Active network indicators most members confirmed, then most confident, then newest
    (all as the caller's view says), or None if it may not read the network collection.

    Ranked in SQL over the served bodies' own numbers: a full scan of the caller's views,
    but only ``limit`` bodies travel to Python.
    """
    found = _network_indicators(session, caller)
    if found is None:
        return None
    query, source = found
    dialect = session.get_bind().dialect.name
    extension = ("extensions", CORROBORATION_EXTENSION_ID)
    members = cast(_json(dialect, source.body, *extension, "member_count"), Integer)
    confidence = cast(_json(dialect, source.body, "confidence"), Integer)
    state = _json(dialect, source.body, *extension, "state")
    ranked = query.where(state == "active").order_by(
        members.desc(), func.coalesce(confidence, -1).desc(), source.date_added_us.desc()
    )
    return _rows(session, ranked.limit(limit))


def _json(dialect: str, body: Any, *path: str) -> ColumnElement[Any]:
    """One value inside a stored JSON body, as SQL (a scalar: text or number)."""
    if dialect == "postgresql":
        return func.jsonb_extract_path_text(cast(body, JSONB), *path)
    return func.json_extract(body, "$." + ".".join(f'"{step}"' for step in path))
