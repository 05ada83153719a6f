"""A member's STIX ``identity`` as the hub publishes it (unsigned; the hub signs it).

Members may not submit identities under their own or anyone's member id (flows/claims.py),
so the hub is the only source of the identity a member's ``created_by_ref`` names; with
it in the ``hub`` collection, a STIX tool can resolve who wrote an object (stix2's
``Environment.creator_of``).

What is published is the name and a class, nothing else: groups stay private
(docs/policies.md, "Side channels"). The class does tell cities from analyst and admin
accounts, as their names usually do; the role itself is not named.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cityshield.store.models import Member
from cityshield.timefmt import format_timestamp

IDENTITY_CLASS_BY_ROLE = {
    "member": "organization",
    "analyst": "individual",
    "admin": "individual",
    "feed": "system",
}
"""A ``member`` is a city's security team; analysts and admins are accounts of people who
work for the network; a feed is a system the hub pulls from. ``identity_class`` is what a
reader weighs a report by."""
ATTRIBUTION_FIELDS = ("name", "description", "identity_class", "contact_information")
"""What a feed's definition may say about who publishes it (``feeds/*.yaml``,
``attribution``): the feed's source, not the hub, is who its reports come from."""


def member_identity(
    member: Member, *, hub_identity_id: str, attribution: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The identity of ``member``, created when the member was (to the millisecond, the STIX
    convention), so republishing it is the same version every time; ``attribution``
    (a feed's) replaces the name and class and may add a description and contact."""
    created = format_timestamp(member.created_us // 1000 * 1000)
    identity = {
        "type": "identity",
        "spec_version": "2.1",
        "id": member.identity_id,
        "created_by_ref": hub_identity_id,
        "created": created,
        "modified": created,
        "name": member.name,
        "identity_class": IDENTITY_CLASS_BY_ROLE.get(member.role, "unknown"),
    }
    for field in ATTRIBUTION_FIELDS:
        if attribution and isinstance(attribution.get(field), str):
            identity[field] = attribution[field]
    return identity
