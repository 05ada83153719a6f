"""Network IOCs as one caller sees them: the shared core of search, lookup and detail.

Everything here is computed from the contributions that count for the caller
(``policy.counted_contributions``) with the publisher's own aggregate
(``dedup.aggregate.corroborate``), so an analyst's figures are those of the network
indicator that caller reads over TAXII, and a report the caller may not see changes none
of them: not a count, a time, a name or whether the IOC is known at all.

Attribution: a report is named by its member unless the hub signed it on the member's
behalf (an anonymous submission's republication, or a sighting reported over this API),
in which case only the member itself and admins see whose it is: naming the member
would undo the anonymity the hub's signature stands for.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, exists, or_, select, true
from sqlmodel import Session, col

from cityshield.bulk import chunks
from cityshield.dedup.aggregate import Corroboration, corroborate
from cityshield.dedup.hub_context import HubContext
from cityshield.dedup.models import Contribution, NetworkIOC
from cityshield.members.caller import Caller
from cityshield.policy import service as policy
from cityshield.signing.models import SigningKey
from cityshield.soc.models import CorroborationPublic, IndicatorSummary
from cityshield.store.collections import NETWORK_ALIAS, get_collection_by_alias
from cityshield.store.models import Collection, Member, StixObject
from cityshield.timefmt import format_timestamp

IOC_COLUMNS = (
    col(NetworkIOC.id),
    col(NetworkIOC.key_digest),
    col(NetworkIOC.key),
    col(NetworkIOC.observable_type),
    col(NetworkIOC.value),
    col(NetworkIOC.pattern),
    col(NetworkIOC.benign_reason),
    col(NetworkIOC.published_us),
)
"""What a summary needs of an IOC row; never its network-wide state, times or id order,
which hidden reports move (``published_us`` only says whether ``benign_reason``, a
function of the value alone, was computed yet)."""


@dataclass(frozen=True)
class Seen:
    """One IOC as the caller sees it: its row, its counted contributions, their aggregate."""

    ioc: Any  # a row of IOC_COLUMNS
    rows: list[Any]  # counted contribution rows, with their original's ``kid``
    summary: Corroboration


def network(session: Session) -> Collection:
    return get_collection_by_alias(session, NETWORK_ALIAS)


def hub_signed(obj: Any = StixObject) -> ColumnElement[bool]:
    """Whether a stored object was signed by a hub key (members' keys have a member)."""
    return exists().where(
        col(SigningKey.kid) == obj.kid,
        SigningKey.member_id.is_(None),  # type: ignore[union-attr]
    )


def attributed(caller: Caller) -> ColumnElement[bool]:
    """SQL: whether the caller may know which member a counted contribution is from."""
    if caller.is_admin:
        return true()
    return or_(col(Contribution.member_id) == caller.member_id, ~hub_signed())


def hub_kids(session: Session) -> frozenset[str]:
    return frozenset(
        session.execute(
            select(col(SigningKey.kid)).where(
                SigningKey.member_id.is_(None)  # type: ignore[union-attr]
            )
        ).scalars()
    )


def shows_member(caller: Caller, row: Any, hub: frozenset[str]) -> bool:
    """:func:`attributed` for a fetched row."""
    return caller.is_admin or row.member_id == caller.member_id or row.kid not in hub


def member_names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = sorted({i for i in ids if i is not None})
    names: dict[int, str] = {}
    for chunk in chunks(wanted):
        query = select(col(Member.id), col(Member.name)).where(col(Member.id).in_(chunk))
        names.update({member_id: name for member_id, name in session.execute(query)})
    return names


def seen_iocs(
    session: Session, *, caller: Caller, context: HubContext, iocs: Sequence[Any], now_us: int
) -> list[Seen]:
    """The IOCs (rows of IOC_COLUMNS) with what the caller may see of them; IOCs with no
    counted contribution for the caller are left out (for the caller they do not exist)."""
    found: dict[int, list[Any]] = {}
    for chunk in chunks([ioc.id for ioc in iocs]):
        query = policy.counted_contributions(list(chunk), caller).add_columns(col(StixObject.kid))
        for row in session.execute(query):
            found.setdefault(row.ioc_id, []).append(row)
    seen: list[Seen] = []
    for ioc in iocs:
        rows = found.get(ioc.id)
        if not rows:
            continue
        rows.sort(key=lambda r: r.object_id)  # the aggregate must not depend on row order
        summary = corroborate(
            rows,
            lifetime_us=context.lifetime_us(ioc.observable_type),
            now_us=now_us,
            default_marking=caller.default_marking,
        )
        seen.append(Seen(ioc, rows, summary))
    return seen


def view_ids(session: Session, *, caller: Caller, ioc_ids: Iterable[int]) -> dict[int, str]:
    """IOC id -> the id of the network indicator the caller reads (its own view)."""
    collection = network(session)
    found: dict[int, str] = {}
    for chunk in chunks(sorted(set(ioc_ids))):
        query = policy.visible_objects(caller, collection, StixObject.pk, StixObject.object_id)
        query = query.where(query.selected_columns[0].in_(chunk))
        found.update({ioc_id: object_id for ioc_id, object_id in session.execute(query)})
    return found


def summaries(
    session: Session, *, caller: Caller, context: HubContext, seen: Sequence[Seen]
) -> list[IndicatorSummary]:
    """The public summary of each seen IOC, in the order given (built without validation:
    the values come from the database, and 10,000 of them cost ~0.3 s to validate)."""
    hub = hub_kids(session)
    names = member_names(session, (r.member_id for s in seen for r in s.rows))
    ids = view_ids(session, caller=caller, ioc_ids=[s.ioc.id for s in seen])
    return [
        IndicatorSummary.model_construct(
            ref=s.ioc.key_digest.hex(),
            key=s.ioc.key,
            observable_type=s.ioc.observable_type,
            value=s.ioc.value,
            pattern=s.ioc.pattern,
            indicator_id=ids.get(s.ioc.id),
            benign_reason=_benign(context, s.ioc),
            corroboration=public_corroboration(s.summary),
            contributors=sorted(
                {
                    names[r.member_id]
                    for r in s.rows
                    if r.member_id in names and shows_member(caller, r, hub)
                }
            ),
        )
        for s in seen
    ]


def _benign(context: HubContext, ioc: Any) -> str | None:
    """The publisher's verdict once it has published the IOC (the same allowlist, the
    same value: checking an address against every allowlisted network costs ~0.3 ms, too
    much for 10,000 lookups), computed here before that."""
    if ioc.published_us is not None:
        return ioc.benign_reason  # type: ignore[no-any-return]
    return context.allowlist.reason(ioc.observable_type, ioc.value)


def public_corroboration(summary: Corroboration) -> CorroborationPublic:
    return CorroborationPublic.model_construct(
        state=summary.state,
        members=summary.member_count,
        reports=summary.report_count,
        sightings=summary.sighting_count,
        confidence=summary.confidence,
        first_seen=format_timestamp(summary.first_seen_us),
        last_seen=format_timestamp(summary.last_seen_us),
        expires=format_timestamp(summary.expires_us) if summary.expires_us else None,
        tlp=summary.tlp,
        indicator_types=list(summary.indicator_types),
        urgent=summary.urgent,
    )
