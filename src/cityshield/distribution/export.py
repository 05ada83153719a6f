"""Block exports: the values a firewall, DNS filter or mail gateway should block now.

Only IOCs that are active *as the caller sees them* (computed from the reports the caller
may read, so a hidden report can neither add a value nor keep one alive), with a single
normalised value, and never a known-benign one: blocking a public resolver or a city's own
portal during an incident does more damage than the attack.

And only values valid for the list's format: the type's own ``value`` (a file list holds
hashes, not names; ``domain-name:resolves_to_refs[*].value`` is not a domain) that passes
:func:`cityshield.stix.observables.observable_reason`. Ingest refuses invalid values, but
values stored before it did must not reach a firewall either -- one line with a NUL byte
or a newline can break a whole list.
"""

from __future__ import annotations

from sqlmodel import Session, col

from cityshield.dedup.aggregate import corroborate
from cityshield.dedup.hub_context import HubContext
from cityshield.dedup.models import Contribution, NetworkIOC
from cityshield.errors import BadRequest
from cityshield.members.caller import Caller
from cityshield.policy import service as policy
from cityshield.stix.literals import unescape
from cityshield.stix.observables import observable_reason
from cityshield.store.collections import NETWORK_ALIAS, get_collection_by_alias
from cityshield.timefmt import now_micros

EXPORT_TYPES = ("ipv4-addr", "ipv6-addr", "domain-name", "url", "email-addr", "file")


def _exportable(ioc: NetworkIOC) -> bool:
    """A single-value IOC whose value belongs in its type's list (see module docstring).

    Its path is read back from the canonical key, ``type:path=value``.
    """
    value = ioc.value
    prefix = f"{ioc.observable_type}:"
    if not value or not ioc.key.startswith(prefix) or not ioc.key.endswith(f"={value}"):
        return False
    path = ioc.key[len(prefix) : -len(value) - 1]
    if ioc.observable_type == "file":
        if not (path.startswith("hashes.'") and path.endswith("'")):
            return False
        steps: tuple[str, ...] = ("hashes", unescape(path[len("hashes.'") : -1]))
    elif path == "value":
        steps = ("value",)
    else:
        return False
    return observable_reason(ioc.observable_type, steps, value) is None


def blocklist(
    session: Session, *, caller: Caller, context: HubContext, observable_type: str
) -> list[str]:
    """Sorted values of one observable type that the caller may see and should block."""
    if observable_type not in EXPORT_TYPES:
        raise BadRequest(f"type must be one of {', '.join(EXPORT_TYPES)}; got {observable_type!r}.")
    network = get_collection_by_alias(session, NETWORK_ALIAS)
    candidates = {
        ioc.id: ioc
        for ioc in session.execute(
            policy.visible_network_iocs(caller, network).where(
                col(NetworkIOC.observable_type) == observable_type,
                col(NetworkIOC.state) == "active",
                NetworkIOC.benign_reason.is_(None),  # type: ignore[union-attr]
                NetworkIOC.value.is_not(None),  # type: ignore[union-attr]
            )
        ).scalars()
        if _exportable(ioc)
    }
    seen: dict[int, list[Contribution]] = {}
    query = policy.counted_contributions(list(candidates), caller)
    for contribution in session.execute(query).all():
        seen.setdefault(contribution.ioc_id, []).append(contribution)  # type: ignore[arg-type]  # plain rows with the model's attributes (counted_contributions)
    now = now_micros()
    lifetime = context.lifetime_us(observable_type)
    return sorted(
        ioc.value
        for ioc_id, ioc in candidates.items()
        if ioc.value
        and corroborate(
            seen.get(ioc_id or 0, []),
            lifetime_us=lifetime,
            now_us=now,
            default_marking=caller.default_marking,
        ).state
        == "active"
    )
