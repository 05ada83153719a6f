"""Searching the network IOCs a caller may see, in keyset pages.

Two stages. SQL narrows: the policy's base query of visible IOCs
(``policy.visible_network_iocs``) with the IOC filters (exact value through its canonical
key digests, prefix, substring, type) and the report filters (member, TLP, time range), which
must all hold for one counted report. Then every match gets the caller's own aggregate
(:mod:`cityshield.soc.indicators`), which decides the remaining filters (minimum
corroboration, state) and the order. Computing the aggregate per match, instead of sorting
on stored figures, is what keeps order and counts a function of what the caller may see:
the stored network-wide state counts reports the caller may not see. A search may match at
most :data:`MAX_MATCHES` IOCs, so a page costs a bounded amount; narrower filters are asked
for beyond that.

Pages are keyset pages: the cursor holds the last result's sort value and canonical key
(unique, and the tie-break), so a page starts strictly after it whatever was added since.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import astuple, dataclass
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Select, func, literal
from sqlmodel import Session, col

from cityshield.dedup.hub_context import HubContext
from cityshield.dedup.iocs import key_digest
from cityshield.dedup.models import Contribution, NetworkIOC
from cityshield.errors import BadRequest, InvalidFilter
from cityshield.members.caller import Caller
from cityshield.members.service import get_member
from cityshield.policy import service as policy
from cityshield.soc.indicators import IOC_COLUMNS, Seen, attributed, network, seen_iocs, summaries
from cityshield.soc.models import SearchPage
from cityshield.soc.values import read_value
from cityshield.stix.normalize import refang_all
from cityshield.timefmt import now_micros

MAX_MATCHES = 20_000
SORTS = ("value", "first_seen", "last_seen", "members", "confidence")
STATES = ("active", "expired", "revoked")
MAX_LIMIT = 500


@dataclass(frozen=True)
class SearchQuery:
    """An analyst's search; every filter is optional and they all must hold."""

    value: str | None = None
    """Exact, in any spelling (defanged, upper-case, ``/32``, default port)."""
    prefix: str | None = None
    contains: str | None = None
    observable_type: str | None = None
    member: str | None = None
    """A member that reported it (only where the caller may know who reported)."""
    tlp: str | None = None
    """A counted report at this level (unmarked ones at the policy's default)."""
    min_members: int | None = None
    seen_after_us: int | None = None
    seen_before_us: int | None = None
    state: str | None = None
    sort: str = "-last_seen"
    limit: int = 50
    cursor: str | None = None

    @property
    def fingerprint(self) -> str:
        """Everything that shapes the result set but the page size and the cursor."""
        shape = astuple(self)[:-2]
        return hashlib.sha256(orjson.dumps(shape)).hexdigest()[:16]


def search_indicators(
    session: Session,
    *,
    caller: Caller,
    context: HubContext,
    query: SearchQuery,
    now_us: int | None = None,
) -> SearchPage:
    """One page of the IOCs the caller may see that match ``query``, sorted."""
    field, descending = _sort(query.sort)
    if not 1 <= query.limit <= MAX_LIMIT:
        raise InvalidFilter(f"limit must be between 1 and {MAX_LIMIT}.")
    if query.state is not None and query.state not in STATES:
        raise InvalidFilter(f"state must be one of {', '.join(STATES)}.")
    position = _decode(query.cursor, query.fingerprint, field) if query.cursor else None
    conditions = _report_conditions(session, caller, query)
    if conditions is None:
        return SearchPage(results=[], total=0, next=None)
    sql = policy.visible_network_iocs(caller, network(session), *conditions, columns=IOC_COLUMNS)
    rows = session.execute(_narrow(sql, query).limit(MAX_MATCHES + 1)).all()
    if len(rows) > MAX_MATCHES:
        raise BadRequest(
            f"The search matches more than {MAX_MATCHES} indicators; narrow it "
            "(value, prefix, type, member, seen_after/seen_before)."
        )
    seen = seen_iocs(
        session, caller=caller, context=context, iocs=rows, now_us=now_us or now_micros()
    )
    matches = sorted(
        (s for s in seen if _keeps(s, query)),
        key=lambda s: _position(s, field),
        reverse=descending,
    )
    total = len(matches)
    if position is not None:
        matches = [s for s in matches if _after(_position(s, field), position, descending)]
    page = matches[: query.limit]
    more = len(matches) > query.limit
    return SearchPage(
        results=summaries(session, caller=caller, context=context, seen=page),
        total=total,
        next=_encode(_position(page[-1], field), query.fingerprint, field) if more else None,
    )


def _sort(sort: str) -> tuple[str, bool]:
    field = sort.removeprefix("-")
    if field not in SORTS:
        raise InvalidFilter(f"sort must be one of {', '.join(SORTS)}, optionally with '-'.")
    return field, sort.startswith("-")


def _report_conditions(
    session: Session, caller: Caller, query: SearchQuery
) -> list[ColumnElement[bool]] | None:
    """Conditions one counted report must meet; None when none can (an unknown member)."""
    conditions: list[ColumnElement[bool]] = []
    if query.member is not None:
        member = get_member(session, query.member)
        if member is None:
            return None
        conditions += [col(Contribution.member_id) == member.id, attributed(caller)]
    if query.tlp is not None:
        level = func.coalesce(col(Contribution.tlp), literal(caller.default_marking))
        conditions.append(level == query.tlp)
    if query.seen_after_us is not None:
        conditions.append(col(Contribution.last_seen_us) >= query.seen_after_us)
    if query.seen_before_us is not None:
        conditions.append(col(Contribution.first_seen_us) <= query.seen_before_us)
    return conditions


def _narrow(sql: Select[Any], query: SearchQuery) -> Select[Any]:
    """The IOC-level filters, in SQL."""
    if query.value is not None:
        reading = read_value(query.value, query.observable_type)
        if reading.problem is not None:
            raise InvalidFilter(f"value {query.value[:100]!r}: {reading.problem}.")
        sql = sql.where(col(NetworkIOC.key_digest).in_([key_digest(i.key) for i in reading.iocs]))
    if query.observable_type is not None:
        sql = sql.where(col(NetworkIOC.observable_type) == query.observable_type)
    if query.prefix:
        sql = sql.where(
            col(NetworkIOC.value).istartswith(refang_all(query.prefix), autoescape=True)
        )
    if query.contains:
        sql = sql.where(
            col(NetworkIOC.value).icontains(refang_all(query.contains), autoescape=True)
        )
    return sql


def _keeps(seen: Seen, query: SearchQuery) -> bool:
    """The filters only the caller's aggregate can decide."""
    if query.min_members is not None and seen.summary.member_count < query.min_members:
        return False
    return query.state is None or seen.summary.state == query.state


def _position(seen: Seen, field: str) -> tuple[Any, str]:
    """A result's place in the order: its sort value, then its canonical key (unique)."""
    summary = seen.summary
    values: dict[str, Any] = {
        "value": seen.ioc.value if seen.ioc.value is not None else seen.ioc.key,
        "first_seen": summary.first_seen_us,
        "last_seen": summary.last_seen_us,
        "members": summary.member_count,
        "confidence": summary.confidence,
    }
    return values[field], seen.ioc.key


def _after(place: tuple[Any, str], position: tuple[Any, str], descending: bool) -> bool:
    return place < position if descending else place > position


def _encode(position: tuple[Any, str], fingerprint: str, field: str) -> str:
    raw = orjson.dumps([field, position[0], position[1], fingerprint])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, fingerprint: str, field: str) -> tuple[Any, str]:
    """The position a cursor stands for; InvalidFilter if it is not one of ours for this
    search (another search's cursor would silently skip results)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        issued_field, value, key, issued_for = orjson.loads(raw)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise InvalidFilter("cursor is not valid.") from exc
    if issued_for != fingerprint or issued_field != field:
        raise InvalidFilter("cursor was issued for another search; repeat its filters unchanged.")
    expected = str if field == "value" else int
    if not isinstance(key, str) or type(value) is not expected:
        raise InvalidFilter("cursor is not valid.")
    return value, key
