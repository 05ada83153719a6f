"""Network IOCs (one per real-world indicator) and the contributions that corroborate them.

Corroboration is never stored as a number: it is always aggregated from contribution rows,
so the view a member gets can be computed from only the contributions that member may see
(a query over visible rows, not a post-filter of a stored total).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class NetworkIOC(SQLModel, table=True):
    """One real-world IOC, keyed by its canonical form; published as one hub indicator."""

    __tablename__ = "network_ioc"
    id: int | None = Field(default=None, primary_key=True)
    key_hash: str = Field(unique=True, max_length=64, description="sha256 of the canonical key")
    key: str = Field(sa_column=Column(Text, nullable=False))
    indicator_id: str = Field(unique=True, max_length=100)
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
    dirty: bool = Field(
        default=True,
        index=True,
        description="its contributions changed since its network indicator was last published",
    )


class Contribution(SQLModel, table=True):
    """A member's report (an indicator) or sighting of a network IOC; latest version only."""

    __table_args__ = (UniqueConstraint("ioc_id", "object_id", name="uq_contribution_object"),)
    id: int | None = Field(default=None, primary_key=True)
    ioc_id: int = Field(foreign_key="network_ioc.id", index=True, ondelete="CASCADE")
    member_id: int | None = Field(default=None, foreign_key="member.id", ondelete="SET NULL")
    object_id: str = Field(max_length=300, index=True)
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
