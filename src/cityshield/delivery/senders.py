"""How each kind of target is sent to: a function from a destination to an open sender.

TAXII targets use ``client.push``; webhooks will register here beside it and share the
rest of delivery (the cursor, leases, retries, receipts) unchanged.
"""

from __future__ import annotations

from cityshield.client.push import TaxiiPush
from cityshield.delivery.run import Destination, OpenSender, Sender
from cityshield.errors import CityShieldError


def taxii_opener(*, timeout_s: float, status_timeout_s: float) -> OpenSender:
    """Open a member's TAXII collection (reads its API root and collection first)."""

    def open_taxii(destination: Destination) -> Sender:
        creds = destination.credentials
        push = TaxiiPush(
            api_root=destination.url,
            collection_id=destination.collection or "",
            user=creds.user if creds.kind == "basic" else None,
            password=creds.secret if creds.kind == "basic" else None,
            token=creds.secret if creds.kind == "token" else None,
            timeout_s=timeout_s,
            status_timeout_s=status_timeout_s,
        )
        try:
            push.open()
        except BaseException:
            push.close()
            raise
        return push

    return open_taxii


def opener_by_kind(openers: dict[str, OpenSender]) -> OpenSender:
    """One opener that dispatches on the target's kind."""

    def open_any(destination: Destination) -> Sender:
        opener = openers.get(destination.kind)
        if opener is None:
            raise CityShieldError(f"no sender for push targets of kind {destination.kind!r}")
        return opener(destination)

    return open_any
