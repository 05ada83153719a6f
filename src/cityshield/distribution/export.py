"""Block exports: the values a firewall, DNS filter or mail gateway should block now.

Only IOCs that are active *as the caller sees them* (computed from the reports the caller
may read, so a hidden report can neither add a value nor keep one alive), with a single
normalised value, and never a known-benign one: blocking a public resolver or a city's own
portal during an incident does more damage than the attack.
"""

from __future__ import annotations

from sqlmodel import Session

from cityshield.dedup.aggregate import corroborate
from cityshield.dedup.context import NetworkContext
from cityshield.dedup.models import Contribution, NetworkIOC
from cityshield.errors import BadRequest
from cityshield.policy import service as policy
from cityshield.policy.caller import Caller
from cityshield.store.collections import NETWORK_ALIAS, get_collection_by_alias
from cityshield.timefmt import now_micros

EXPORT_TYPES = ("ipv4-addr", "ipv6-addr", "domain-name", "url", "email-addr", "file")


def blocklist(
    session: Session, *, caller: Caller, context: NetworkContext, observable_type: str
) -> list[str]:
    """Sorted values of one observable type that the caller may see and should block."""
    if observable_type not in EXPORT_TYPES:
        raise BadRequest(f"type must be one of {', '.join(EXPORT_TYPES)}; got {observable_type!r}.")
    network = get_collection_by_alias(session, NETWORK_ALIAS)
    candidates = {
        ioc.id: ioc
        for ioc in session.execute(
            policy.visible_network_iocs(caller, network).where(
                NetworkIOC.observable_type == observable_type,
                NetworkIOC.state == "active",
                NetworkIOC.benign_reason.is_(None),  # type: ignore[union-attr]
                NetworkIOC.value.is_not(None),  # type: ignore[union-attr]
            )
        ).scalars()
    }
    seen: dict[int, list[Contribution]] = {}
    query = policy.counted_contributions(list(candidates), caller)
    for contribution in session.execute(query).all():
        seen.setdefault(contribution.ioc_id, []).append(contribution)
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
