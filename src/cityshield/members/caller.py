"""Who is asking: the authenticated principal every read and write is decided for."""

from __future__ import annotations

from dataclasses import dataclass, field

ROLES = ("member", "analyst", "admin")
"""The roles of members that log in (``member add --role``)."""
FEED_ROLE = "feed"
"""The role of a feed's principal (``cityshield.feeds``): it never logs in and never reads;
it submits what the hub pulls from the feed, so that the policy, provenance and signatures
treat a feed's reports like a member's."""
COLLECTION_ROLES = (*ROLES, FEED_ROLE)
"""Roles a collection may name as readers or writers."""


@dataclass(frozen=True)
class Caller:
    """An authenticated member. Built once per request from the database, never from input."""

    member_id: int
    name: str
    role: str
    identity_id: str
    groups: frozenset[str] = field(default_factory=frozenset)
    default_marking: str = "amber"
    """The active policy's TLP level for unmarked objects, for predicates that need it."""

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"
