"""Feeds the hub pulls: one row per defined feed (its state between pulls and its health),
and one row per value or upstream object a feed vouches for.

The definitions themselves live in files (``CITYSHIELD_FEEDS_DIR``); a row keeps what the
files cannot: the cursor, the HTTP validators, when the feed is due, how its last pull went,
and the salt its object ids are derived from. No logic here (``feeds/state.py``).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Integer, LargeBinary, Text
from sqlmodel import Field, SQLModel


class Feed(SQLModel, table=True):
    """A feed's state and health. ``member_id`` is its principal (role ``feed``)."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=64)
    member_id: int = Field(
        sa_column=Column(Integer, ForeignKey("member.id", ondelete="CASCADE"), nullable=False)
    )
    salt: str = Field(
        max_length=64,
        description="random, made once: the feed's object ids are UUIDv5 under it, so they "
        "are stable across pulls but no member can predict (and take) one first",
    )
    definition: str = Field(
        default="{}",
        sa_column=Column(Text, nullable=False, default="{}"),
        description="the definition last read from its file (JSON), for status and runs",
    )
    defined: bool = Field(default=True, description="false once its file is gone")
    attribution: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))
    content_digest: str = Field(
        default="",
        max_length=64,
        description="of what the definition puts in every object (TLP, confidence, "
        "types...): when it changes, every value the feed vouches for gets a new version",
    )
    cursor: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    etag: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    last_modified: str | None = Field(default=None, max_length=100)
    next_due_us: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    started_us: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    finished_us: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    succeeded_us: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    not_modified: bool = Field(default=False, description="the last pull was answered 304")
    added: int = Field(default=0, description="objects the last pull added or revised")
    withdrawn: int = Field(default=0, description="values the last pull withdrew")
    rejected: int = Field(default=0, description="lines or objects the last pull refused")
    problems: str = Field(
        default="[]",
        sa_column=Column(Text, nullable=False, default="[]"),
        description="the first few reasons for the last pull's refusals (JSON list)",
    )
    total_added: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))


class FeedItem(SQLModel, table=True):
    """A value (list feeds) or upstream object (TAXII feeds) and the feed's object for it.

    ``key_digest`` is the first 16 bytes of the SHA-256 of ``key`` (the canonical IOC key,
    or the upstream object's id): keys can be URLs of kilobytes, too long for an index.
    ``generation`` counts withdrawals: a value that comes back after it was withdrawn gets
    a new object, since a revoked STIX object stays revoked.
    """

    __tablename__ = "feed_item"
    feed_id: int = Field(
        sa_column=Column(Integer, ForeignKey("feed.id", ondelete="CASCADE"), primary_key=True)
    )
    key_digest: bytes = Field(sa_column=Column(LargeBinary(16), primary_key=True))
    key: str = Field(sa_column=Column(Text, nullable=False))
    object_id: str = Field(max_length=100)
    generation: int = 0
    created_us: int = Field(sa_column=Column(BigInteger, nullable=False))
    version_us: int = Field(sa_column=Column(BigInteger, nullable=False))
    active: bool = True


class FeedPublic(SQLModel):
    """A feed's health as admins see it (``cityshield feeds status``, ``/api/v1/feeds``)."""

    name: str
    kind: str
    url: str
    enabled: bool
    defined: bool = Field(description="false once its definition file is gone")
    interval_seconds: float
    tlp: str
    confidence: int
    principal: str = Field(description="the member name its reports are attributed to")
    identity: str = Field(description="its STIX identity, published in the hub collection")
    last_started: str | None
    last_finished: str | None
    last_success: str | None
    last_error: str | None
    ok: bool | None = Field(description="whether the last pull succeeded; None before one")
    next_due: str | None
    not_modified: bool = Field(description="the last pull was answered 304: no work")
    added: int = Field(description="objects the last pull added or vouched for again")
    withdrawn: int = Field(description="values the last pull withdrew (gone from the list)")
    rejected: int = Field(description="lines or objects the last pull refused")
    problems: list[str] = Field(description="the first reasons for those refusals")
    total_added: int
    vouched: int = Field(description="values or upstream objects it vouches for now")
    cursor: str | None = Field(description="TAXII feeds: added_after of the next pull")
    etag: str | None
    last_modified: str | None
