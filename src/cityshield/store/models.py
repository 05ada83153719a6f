"""Tables of the hub's core: members, collections, stored STIX objects, status resources.

No logic here; see ``service.py`` modules for behaviour.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class Member(SQLModel, table=True):
    """A city (or analyst, or admin) that talks to the hub. The token is stored as a hash."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=100)
    identity_id: str = Field(unique=True, max_length=100)
    role: str = Field(default="member", max_length=20)
    token_hash: str = Field(index=True, unique=True, max_length=64)
    created_us: int = Field(sa_column=Column(BigInteger, nullable=False))
    active: bool = True


class MemberGroup(SQLModel, table=True):
    """Group membership (regions, sectors); groups exist by being named here."""

    __tablename__ = "member_group"
    member_id: int = Field(foreign_key="member.id", primary_key=True, ondelete="CASCADE")
    group: str = Field(primary_key=True, max_length=100)


class Collection(SQLModel, table=True):
    """A TAXII collection. Roles listed in read_roles/write_roles may use it; admins always can.

    ``last_added_us`` is the per-collection high-water mark of date_added: writers lock
    this row first, which makes date_added strictly increasing in commit order.
    ``locks_taken`` counts the writers that took that lock: a reader that finds it
    unchanged knows that no writer committed in between (the network publisher builds
    from a snapshot and writes only if nobody else published meanwhile).
    """

    id: str = Field(primary_key=True, max_length=64)
    alias: str | None = Field(default=None, unique=True, max_length=100)
    title: str = Field(max_length=200)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    read_roles: str = Field(default="member,analyst,admin", max_length=200)
    write_roles: str = Field(default="", max_length=200)
    last_added_us: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    locks_taken: int = Field(
        default=0, sa_column=Column(BigInteger, nullable=False, default=0, server_default="0")
    )


class StixObject(SQLModel, table=True):
    """One version of one STIX object in one collection, with its JSON exactly as received.

    One row per (collection, id, version), not per content hash: a peer that re-serialises
    the same version must not create a new one. ``is_first``/``is_latest`` are maintained
    at write time so ``match[version]=first|last`` is an indexed predicate inside the keyset
    query rather than a GROUP BY over the whole collection.
    """

    __tablename__ = "stix_object"
    __table_args__ = (
        UniqueConstraint("collection_id", "object_id", "version_us", name="uq_object_version"),
        UniqueConstraint("collection_id", "date_added_us", name="uq_collection_date_added"),
    )

    pk: int | None = Field(default=None, primary_key=True)
    collection_id: str = Field(foreign_key="collection.id", max_length=64)
    object_id: str = Field(max_length=300)
    type: str = Field(max_length=250)
    spec_version: str = Field(default="2.1", max_length=10)
    version_us: int = Field(sa_column=Column(BigInteger, nullable=False))
    date_added_us: int = Field(sa_column=Column(BigInteger, nullable=False))
    is_first: bool = True
    is_latest: bool = True
    submitter_id: int | None = Field(default=None, foreign_key="member.id", ondelete="SET NULL")
    kid: str | None = Field(default=None, max_length=64, index=True)
    body: str = Field(sa_column=Column(Text, nullable=False))


class Status(SQLModel, table=True):
    """A TAXII status resource: the outcome of one POST, readable by its submitter."""

    id: str = Field(primary_key=True, max_length=64)
    member_id: int | None = Field(default=None, foreign_key="member.id", ondelete="CASCADE")
    collection_id: str = Field(foreign_key="collection.id", max_length=64)
    status: str = Field(default="complete", max_length=20)
    request_us: int = Field(sa_column=Column(BigInteger, nullable=False))
    total_count: int = 0
    success_count: int = 0
    failure_count: int = 0
    pending_count: int = 0
    details: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))


class HubSetting(SQLModel, table=True):
    """Small key/value facts about this hub (its identity id, creation time)."""

    __tablename__ = "hub_setting"
    key: str = Field(primary_key=True, max_length=100)
    value: str = Field(sa_column=Column(Text, nullable=False))
