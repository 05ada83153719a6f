"""Network IOCs (one per real-world indicator) and the contributions that corroborate them.

Corroboration is never stored as a number: it is always aggregated from contribution rows,
so the view a member gets can be computed from only the contributions that member may see
(a query over visible rows, not a post-filter of a stored total).

Every envelope into ``submissions`` writes here inside its transaction, so the indexes are
few and small: the canonical key is looked up by a 16-byte hash, a contribution is found
from its original's row (``stix_pk``) rather than by an index on its object id, and IOCs
waiting for publication are rows of a small queue table rather than a flag (and an
index) on every IOC row.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel


class NetworkIOC(SQLModel, table=True):
    """One real-world IOC, keyed by its canonical form; published as one hub indicator."""

    __tablename__ = "network_ioc"
    __table_args__ = (Index("uq_network_ioc_key_digest", "key_digest", unique=True),)
    id: int | None = Field(default=None, primary_key=True)
    key_digest: bytes = Field(
        sa_column=Column(LargeBinary(16), nullable=False),
        description="the first 16 bytes of the sha256 of the canonical key",
    )
    key: str = Field(sa_column=Column(Text, nullable=False))
    indicator_id: str | None = Field(
        default=None,
        unique=True,
        max_length=100,
        description="set when first published: the index entry is written by the publisher, "
        "not by every ingest that creates an IOC",
    )
    generation: int = Field(
        default=0,
        description="bumped when a revoked IOC is reported again: STIX forbids "
        "un-revoking, so it is republished under a new id",
    )
    observable_type: str = Field(max_length=100, index=True)
    value: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    pattern: str = Field(sa_column=Column(Text, nullable=False))
    state: str = Field(default="active", max_length=20, index=True)
    benign_reason: str | None = Field(default=None, max_length=300)
    expires_us: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    created_us: int = Field(sa_column=Column(BigInteger, nullable=False))
    published_us: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))


class PendingIOC(SQLModel, table=True):
    """An IOC whose contributions changed since its network indicator was last published.

    A queue the publisher drains every fraction of a second, so it stays a few pages.
    ``urgent``: an urgent report changed it; the publisher takes these first
    (docs/urgent-and-webhooks.md). ``seq`` grows each time a writer queues the IOC again:
    the publisher, which builds from a snapshot, takes a row off the queue only if it is
    the one it read (``dedup.queue``).
    """

    __tablename__ = "network_pending"
    ioc_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("network_ioc.id", ondelete="CASCADE"), primary_key=True
        )
    )
    urgent: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, default=False))
    seq: int = Field(
        default=0, sa_column=Column(BigInteger, nullable=False, default=0, server_default="0")
    )


class Contribution(SQLModel, table=True):
    """A member's (or a feed's) report (an indicator) or sighting of a network IOC; latest
    version only."""

    # Also the index of contributions by IOC (its leading column).
    __table_args__ = (UniqueConstraint("ioc_id", "object_id", name="uq_contribution_object"),)
    id: int | None = Field(default=None, primary_key=True)
    ioc_id: int = Field(foreign_key="network_ioc.id", ondelete="CASCADE")
    member_id: int | None = Field(default=None, foreign_key="member.id", ondelete="SET NULL")
    object_id: str = Field(max_length=300, description="found via stix_pk, not indexed")
    kind: str = Field(default="indicator", max_length=20)
    stix_pk: int | None = Field(
        default=None, foreign_key="stix_object.pk", index=True, ondelete="SET NULL"
    )
    version_us: int = Field(sa_column=Column(BigInteger, nullable=False))
    confidence: int | None = None
    indicator_types: str = Field(default="", max_length=500)
    tlp: str | None = Field(default=None, max_length=20)
    first_seen_us: int = Field(sa_column=Column(BigInteger, nullable=False))
    last_seen_us: int = Field(sa_column=Column(BigInteger, nullable=False))
    valid_until_us: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    revoked: bool = False
    urgent: bool = Field(
        default=False,
        sa_column=Column(Boolean, nullable=False, default=False),
        description="this version of the original was submitted urgent, and the hub honoured it",
    )
    from_feed: bool = Field(
        default=False,
        sa_column=Column(Boolean, nullable=False, default=False),
        description="the original came from a feed the hub pulls, not from a member "
        "(docs/feeds.md): counted apart from members in the corroboration",
    )


class NetworkView(SQLModel, table=True):
    """The network indicator of one IOC as one member sees it: built only from the reports
    that member may see, and versioned only when *that* changes.

    Members read the ``network`` collection from here (admins read the network-wide
    versions), so no property, timestamp, version, id or ``date_added`` order a member
    receives depends on a report it may not see (noninterference). Latest version only;
    the column names are the stored objects' so the same filters and keyset pages apply.
    """

    __tablename__ = "network_view"
    __table_args__ = (
        UniqueConstraint("member_id", "date_added_us", name="uq_network_view_date_added"),
        Index("ix_network_view_object", "member_id", "object_id"),
    )
    member_id: int = Field(
        sa_column=Column(Integer, ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    )
    ioc_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("network_ioc.id", ondelete="CASCADE"), primary_key=True
        )
    )
    object_id: str = Field(max_length=100, description="this member's indicator id")
    generation: int = 0
    digest: bytes = Field(
        sa_column=Column(LargeBinary(16), nullable=False),
        description="of everything the body says but its timestamps",
    )
    state: str = Field(default="active", max_length=20)
    created_us: int = Field(sa_column=Column(BigInteger, nullable=False))
    version_us: int = Field(sa_column=Column(BigInteger, nullable=False))
    date_added_us: int = Field(sa_column=Column(BigInteger, nullable=False))
    type: str = Field(default="indicator", max_length=20)
    spec_version: str = Field(default="2.1", max_length=10)
    is_first: bool = True
    is_latest: bool = True
    urgent: bool = Field(
        default=False,
        sa_column=Column(Boolean, nullable=False, default=False),
        description="an urgent report this member may see counts in it (delivered first)",
    )
    body: str = Field(sa_column=Column(Text, nullable=False))


class ViewPending(SQLModel, table=True):
    """A member whose views must be built from scratch (a new member, or a database from
    before views existed); ``next_ioc_id`` is how far the publisher has got."""

    __tablename__ = "network_view_pending"
    member_id: int = Field(
        sa_column=Column(Integer, ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    )
    next_ioc_id: int = 0
