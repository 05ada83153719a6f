"""Exports for automation that cannot speak TAXII: one call per request.

:func:`build_export` answers ``/api/v1/export/{format}``; :func:`blocklist` the older
``/export/blocklist`` (an alias of an ``edl`` with URLs as reported). Both read only the
caller's own network views (``exports.entries``), apply the caller's policy thresholds
(``export:`` in the policy file) where the request sets none, and write what is left as the
format wants it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session

from cityshield.dedup.hub_context import HubContext
from cityshield.errors import BadRequest
from cityshield.exports import render, versions
from cityshield.exports.entries import list_version, read_entries
from cityshield.exports.query import ExportQuery, ExportRequest, resolve
from cityshield.exports.select import Selection, select_entries
from cityshield.exports.values import EXPORT_TYPES, ValueLimits
from cityshield.members.caller import Caller
from cityshield.policy.active import active_policy
from cityshield.store.collections import NETWORK_ALIAS, get_collection_by_alias


@dataclass(frozen=True)
class ExportOutcome:
    """A list, or "not modified"; ``headers`` describe it either way."""

    not_modified: bool
    media_type: str
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def build_export(
    session: Session,
    *,
    caller: Caller,
    context: HubContext,
    request: ExportRequest,
    limits: ValueLimits,
    if_none_match: str | None = None,
) -> ExportOutcome:
    """The caller's list in ``request.format``; not modified when ``if_none_match`` names
    its current ETag (decided before a single entry is read)."""
    defaults = active_policy(session).export_defaults(caller.name, caller.groups)
    query = resolve(request, defaults)
    network = get_collection_by_alias(session, NETWORK_ALIAS)
    version = list_version(session, caller=caller, network=network)
    stamp = versions.stamp_of(
        request,
        query,
        allowlist=context.allowlist,
        limits=limits,
        default_marking=caller.default_marking,
    )
    after = versions.since_position(query.since, stamp)
    etag = versions.etag_of(stamp, version, after)
    headers = {
        "ETag": etag,
        "X-CityShield-Next-Since": versions.next_since(version, stamp),
        "Cache-Control": "private, no-cache",
        "Vary": "Authorization",
    }
    media_type = render.MEDIA_TYPES[query.format]
    if versions.etag_matches(if_none_match, etag):
        return ExportOutcome(True, media_type, headers=headers)
    selection = _selection(
        session, caller=caller, context=context, query=query, limits=limits, after_us=after
    )
    body, count = render.render(selection, query, limits, etag)
    headers |= {
        "X-CityShield-Count": str(count),
        "X-CityShield-Total": str(selection.total),
        "X-CityShield-Truncated": "true" if selection.truncated else "false",
        "X-CityShield-Refused": str(selection.refused),
    }
    if after is not None:
        carried = {"csv": len(selection.removed), "stix": len(render.stix_removals(selection))}
        uncarried = len(selection.removed) - carried.get(query.format, 0)
        headers["X-CityShield-Removals"] = str(len(selection.removed))
        headers["X-CityShield-Removals-Omitted"] = str(uncarried)
    return ExportOutcome(False, media_type, body.encode(), headers)


def blocklist(
    session: Session,
    *,
    caller: Caller,
    context: HubContext,
    observable_type: str,
    limits: ValueLimits | None = None,
) -> list[str]:
    """Sorted values of one observable type the caller should block now: its ``edl`` list
    of that type with URLs as reported (``/export/blocklist``, kept as an alias)."""
    if observable_type not in EXPORT_TYPES:
        raise BadRequest(f"type must be one of {', '.join(EXPORT_TYPES)}; got {observable_type!r}.")
    request = ExportRequest(format="edl", types=(observable_type,), url_form="full")
    query = resolve(request, active_policy(session).export_defaults(caller.name, caller.groups))
    selection = _selection(
        session,
        caller=caller,
        context=context,
        query=query,
        limits=limits or ValueLimits(),
        after_us=None,
    )
    return [line.value for line in selection.listed]


def _selection(
    session: Session,
    *,
    caller: Caller,
    context: HubContext,
    query: ExportQuery,
    limits: ValueLimits,
    after_us: int | None,
) -> Selection:
    """The caller's entries of the query's types (all, or those changed after
    ``after_us``) and what the query makes of them."""
    network = get_collection_by_alias(session, NETWORK_ALIAS)
    entries = read_entries(
        session,
        caller=caller,
        network=network,
        types=query.types,
        after_us=after_us,
        bodies=query.format == "stix",
    )
    return select_entries(
        entries,
        query=query,
        allowlist=context.allowlist,
        limits=limits,
        default_marking=caller.default_marking,
        delta=after_us is not None,
    )


def suricata_categories(*, category: int) -> str:
    """The categories file for reputation files of ``category``."""
    if not 1 <= category <= 60:
        raise BadRequest(f"category must be from 1 to 60 (Suricata's limit); got {category}.")
    return render.suricata_categories(category)
