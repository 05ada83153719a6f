"""Adding and removing a member, with the identity the hub publishes for it.

``members/service.py`` keeps the member rows; this flow also keeps the ``hub`` collection's
member identities in step (``hub/publications.py``), which needs the hub key, hence ``home``.
Before the hub is initialised there is nothing to publish into: ``ensure_hub`` (``init``,
``serve``) publishes the identities of members that lack one.
"""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session

from cityshield.errors import Conflict
from cityshield.hub.publications import identity_revoked, publish_member_identities
from cityshield.hub.service import get_hub_identity, hub_signer
from cityshield.members import service


def add_member(
    session: Session,
    *,
    home: Path,
    name: str,
    role: str = "member",
    groups: list[str] | None = None,
) -> service.NewCredentials:
    """Create a member and publish its hub-signed identity.

    A name whose identity the hub revoked (the member was removed) cannot be reused: its
    identity id is derived from the name, and a revoked STIX object gets no new version.
    """
    identity_id = service.identity_id_for(name.strip())
    if identity_revoked(session, identity_id):
        raise Conflict(
            f"A removed member was named {name.strip()!r}; its identity {identity_id} is "
            "revoked for good, so choose another name."
        )
    creds = service.create_member(session, name=name, role=role, groups=groups)
    publish_identities(session, home=home)
    return creds


def remove_member(session: Session, *, home: Path, name: str) -> None:
    """Remove a member and publish a revoked version of its identity."""
    service.remove_member(session, name=name)
    publish_identities(session, home=home)


def publish_identities(session: Session, *, home: Path) -> None:
    """Bring the ``hub`` collection's member (and feed) identities up to date."""
    hub_identity = get_hub_identity(session)
    if hub_identity is None:
        return
    key = hub_signer(session, home)
    publish_member_identities(session, key=key, hub_identity=hub_identity)
