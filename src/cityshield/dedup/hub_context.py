"""The hub's signer and the network's rules, as the network publisher needs them: built once
at start-up (``hub.service.load_hub_context``) and handed to every publication, so that
nothing below the hub reads its key file or the settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cityshield.dedup.allowlist import Allowlist

DAY_US = 86_400 * 1_000_000

DEFAULT_LIFETIME_DAYS: dict[str, float | None] = {
    "ipv4-addr": 14,
    "ipv6-addr": 14,
    "domain-name": 90,
    "url": 60,
    "email-addr": 180,
    "file": None,  # a hash names the same bytes forever
    "compound": 90,
    "*": 180,
}
"""Lifetime of a report without valid_until, by observable type: addresses are reassigned
within days, domains and URLs within months, file hashes never go stale."""


@dataclass(frozen=True)
class HubContext:
    """The hub identity and key that author (and sign) network indicators and anonymous
    republications, the known-benign values and the ageing rules."""

    hub_identity_id: str
    hub_key: Ed25519PrivateKey
    hub_kid: str
    allowlist: Allowlist
    lifetime_days: dict[str, float | None] = field(
        default_factory=lambda: dict(DEFAULT_LIFETIME_DAYS)
    )
    urgent_per_hour: int = 100
    """Urgent objects a member may have honoured in any hour, unless an admin set its own
    number (``delivery.urgent``)."""

    def lifetime_us(self, observable_type: str) -> int | None:
        days = self.lifetime_days.get(observable_type, self.lifetime_days.get("*"))
        return None if days is None else int(days * DAY_US)
