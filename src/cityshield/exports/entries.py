"""The entries of a member's exports, read from that member's own network views.

A view (``network_view``, ``dedup/views.py``) is the network indicator of one IOC as its
member sees it, built by the publisher from only the reports that member may see: its
corroboration (members, confidence, first and last seen), its TLP, its state and its
``date_added`` are that member's alone. Exporting views rather than recomputing from
contributions makes every export say what the member's TAXII ``network`` collection says
(one truth for a city's SIEM and its firewall), and gives each member a strictly increasing
``date_added`` to version its lists by (``exports.versions``). The rows come from
:func:`cityshield.policy.service.own_network_views`, never from a bare select.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import func
from sqlmodel import Session, col

from cityshield.dedup.models import NetworkIOC, NetworkView
from cityshield.dedup.publish import CORROBORATION_EXTENSION_ID
from cityshield.exports.values import exportable, ip_span
from cityshield.members.caller import Caller
from cityshield.policy import service as policy
from cityshield.policy.service import VIEW_HIDDEN
from cityshield.stix.addresses import Span
from cityshield.stix.vocabulary import TLP_LEVELS, TLP_ORDER
from cityshield.store.models import Collection

ACTIVE = "active"
_BATCH = 2000


@dataclass(frozen=True, slots=True)
class Entry:
    """One IOC of a member's view, as an export sees it."""

    observable_type: str
    value: str
    indicator_id: str
    state: str
    """active, revoked, expired, or hidden (the member can no longer see any report of it)."""
    date_added_us: int
    body: str | None = None
    """The view's signed indicator; None for a hidden view (whose stored body is stale)."""
    confidence: int = 0
    members: int = 0
    first_seen: str = ""
    last_seen: str = ""
    """As the indicator says them (STIX timestamps, parsed only to rank for ``max``)."""
    tlp: str | None = None
    benign: bool = False
    span: Span | None = None
    """The addresses of an IP value in normal form (read once, used by every check)."""

    @property
    def active(self) -> bool:
        return self.state == ACTIVE


def list_version(session: Session, *, caller: Caller, network: Collection) -> int:
    """The newest ``date_added`` among the caller's views (hidden ones included), 0 when
    it has none: every change to a view (a new one, a new version, a hide) moves it up,
    so it versions everything an export of that member can say."""
    query = policy.own_network_views(caller, network, func.max(col(NetworkView.date_added_us)))
    return int(session.execute(query).scalar_one() or 0)


def read_entries(
    session: Session,
    *,
    caller: Caller,
    network: Collection,
    types: tuple[str, ...],
    after_us: int | None,
    bodies: bool = False,
) -> list[Entry]:
    """The caller's exportable entries of these types: its active views (``after_us``
    None), or every view that changed after ``after_us`` (a delta: removals included).

    Rows are streamed, and a body is kept only when asked (``bodies``: a STIX bundle), so
    a list of 300,000 values never holds 300,000 signed indicators at once."""
    query = policy.own_network_views(
        caller,
        network,
        NetworkIOC.observable_type,
        NetworkIOC.key,
        NetworkIOC.value,
        NetworkView.object_id,
        NetworkView.state,
        NetworkView.date_added_us,
        NetworkView.body,
    ).join(NetworkIOC, col(NetworkIOC.id) == col(NetworkView.ioc_id))
    query = query.where(col(NetworkIOC.observable_type).in_(types))
    if after_us is None:
        query = query.where(col(NetworkView.state) == ACTIVE)
    else:
        query = query.where(col(NetworkView.date_added_us) > after_us)
    entries: list[Entry] = []
    rows = session.execute(query.execution_options(yield_per=_BATCH))
    for observable_type, key, value, object_id, state, added_us, body in rows:
        span = ip_span(observable_type, key, value)
        if span is None and not exportable(observable_type, key, value):
            continue  # never listed, so never removed either
        if state == VIEW_HIDDEN:
            entries.append(Entry(observable_type, value, object_id, state, added_us, span=span))
        else:
            entries.append(
                _from_body(observable_type, value, object_id, state, added_us, body, span, bodies)
            )
    return entries


def _from_body(
    observable_type: str,
    value: str,
    object_id: str,
    state: str,
    added_us: int,
    body: str,
    span: Span | None,
    keep_body: bool,
) -> Entry:
    """What the view's indicator says about the IOC: its corroboration extension and its
    TLP marking (docs/dedup.md)."""
    obj: dict[str, Any] = orjson.loads(body)
    extension = obj.get("extensions", {}).get(CORROBORATION_EXTENSION_ID, {})
    levels = [TLP_LEVELS[m] for m in obj.get("object_marking_refs", []) if m in TLP_LEVELS]
    return Entry(
        observable_type,
        value,
        object_id,
        state,
        added_us,
        body=body if keep_body else None,
        confidence=int(obj.get("confidence", 0)),
        members=int(extension.get("member_count", 0)),
        first_seen=str(extension.get("first_seen", "")),
        last_seen=str(extension.get("last_seen", "")),
        tlp=max(levels, key=TLP_ORDER.index) if levels else None,
        benign=bool(extension.get("benign_reason")),
        span=span,
    )
