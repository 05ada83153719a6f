"""Block exports: the values a firewall, DNS filter or mail gateway should block now.

Only active network IOCs (not revoked, not expired) with a single normalised value, and
never a known-benign one: blocking a public resolver or a city's own portal during an
incident does more damage than the attack.
"""

from __future__ import annotations

from sqlmodel import Session

from cityshield.dedup.models import NetworkIOC
from cityshield.errors import BadRequest
from cityshield.policy import service as policy
from cityshield.policy.caller import Caller
from cityshield.store.collections import NETWORK_ALIAS, get_collection_by_alias

EXPORT_TYPES = ("ipv4-addr", "ipv6-addr", "domain-name", "url", "email-addr", "file")


def blocklist(session: Session, *, caller: Caller, observable_type: str) -> list[str]:
    """Sorted values of one observable type that the caller may see and should block."""
    if observable_type not in EXPORT_TYPES:
        raise BadRequest(f"type must be one of {', '.join(EXPORT_TYPES)}; got {observable_type!r}.")
    network = get_collection_by_alias(session, NETWORK_ALIAS)
    query = (
        policy.visible_network_iocs(caller, network)
        .with_only_columns(NetworkIOC.value)
        .where(
            NetworkIOC.observable_type == observable_type,
            NetworkIOC.state == "active",
            NetworkIOC.benign_reason.is_(None),  # type: ignore[union-attr]
            NetworkIOC.value.is_not(None),  # type: ignore[union-attr]
        )
        .order_by(NetworkIOC.value)
    )
    return [value for value in session.execute(query).scalars() if value]
