"""Revoking a member's key and lifting a quarantine, with the network view kept in step.

A compromised-key revocation hides what the key signed since the compromise from every read
path at once; the network view, whose aggregates counted those reports, must stop counting
them too, so the IOCs they vouched for are republished in the same transaction (and again
when the quarantine is lifted). A plain revocation hides nothing stored, so it republishes
nothing.
"""

from __future__ import annotations

from sqlmodel import Session

from cityshield.config import Settings
from cityshield.dedup.service import refresh_for_key
from cityshield.hub.service import load_hub_context
from cityshield.signing import registry
from cityshield.signing.models import SigningKey


def revoke_key(
    session: Session, *, settings: Settings, kid: str, compromised_since_us: int | None = None
) -> SigningKey:
    """Revoke a key now; with ``compromised_since_us`` also quarantine what it signed that
    the hub received since, and republish the network indicators that counted it."""
    key = registry.revoke_key(session, kid=kid, compromised_since_us=compromised_since_us)
    if compromised_since_us is not None:
        _refresh_network(session, settings, kid)
    return key


def lift_quarantine(session: Session, *, settings: Settings, kid: str) -> SigningKey:
    """Bring back what a compromised-key revocation hid (the key stays revoked), and
    republish the network indicators it counts for again."""
    key = registry.lift_quarantine(session, kid=kid)
    _refresh_network(session, settings, kid)
    return key


def _refresh_network(session: Session, settings: Settings, kid: str) -> None:
    refresh_for_key(session, context=load_hub_context(session, settings), kid=kid)
