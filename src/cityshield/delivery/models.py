"""Push targets and delivery receipts: the tables, and the shapes the admin API returns.

No logic here; ``targets.py``, ``source.py``, ``receipts.py`` and ``run.py`` hold it.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel


class DeliveryTarget(SQLModel, table=True):
    """Where one member's objects are pushed, and how far delivery has got.

    There is no queue: what is due is what the member may read in its ``view`` collection
    after ``cursor_us`` (a date_added in that view) that no receipt covers (docs/delivery.md).
    ``kind`` says how to send (``taxii`` today; webhooks reuse the row, its retry and its
    receipts). ``revision`` changes whenever an operator changes where or what is sent
    (replace, retry of rejected items): a worker that read a batch under an older
    revision records nothing for it. Times are epoch microseconds.
    """

    __tablename__ = "delivery_target"
    __table_args__ = (UniqueConstraint("member_id", "kind", name="uq_delivery_target_member"),)
    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(
        sa_column=Column(Integer, ForeignKey("member.id", ondelete="CASCADE"), nullable=False)
    )
    kind: str = Field(default="taxii", max_length=20)
    url: str = Field(sa_column=Column(Text, nullable=False))
    collection: str | None = Field(default=None, max_length=300)
    view: str = Field(default="network", max_length=100, description="a hub collection alias")
    min_members: int | None = None
    urgent_only: bool = Field(
        default=False,
        sa_column=Column(Boolean, nullable=False, default=False),
        description="webhooks: only urgent network indicators (and later versions of those)",
    )
    auth: str = Field(default="none", max_length=10, description="none, basic or token")
    auth_user: str | None = Field(default=None, max_length=200)
    secret: str | None = Field(
        default=None,
        sa_column=Column(Text, nullable=True),
        description="the password or token, Fernet-encrypted (delivery.credentials)",
    )
    state: str = Field(default="active", max_length=10, description="active, paused or dead")
    revision: int = 0
    cursor_us: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    scope_digest: str = Field(default="", max_length=64)
    next_check_us: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    attempts: int = 0
    next_attempt_us: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    last_attempt_us: int | None = Field(default=None, sa_column=Column(BigInteger))
    last_success_us: int | None = Field(default=None, sa_column=Column(BigInteger))
    last_error_us: int | None = Field(default=None, sa_column=Column(BigInteger))
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    queue_depth: int | None = Field(default=None, sa_column=Column(BigInteger))
    oldest_pending_us: int | None = Field(default=None, sa_column=Column(BigInteger))
    created_us: int = Field(sa_column=Column(BigInteger, nullable=False))
    updated_us: int = Field(sa_column=Column(BigInteger, nullable=False))


class DeliveryReceipt(SQLModel, table=True):
    """What a target's receiver said about one version of one object.

    ``delivered``: it holds it; ``rejected``: it refused it (its message kept). The key is
    the object's id and version, so a retry or a rescan never sends a receipted version
    again and the receiver always gets the same id and ``modified`` for it.
    """

    __tablename__ = "delivery_receipt"
    __table_args__ = (Index("ix_delivery_receipt_object", "object_id"),)
    target_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("delivery_target.id", ondelete="CASCADE"), primary_key=True
        )
    )
    object_id: str = Field(primary_key=True, max_length=300)
    version_us: int = Field(sa_column=Column(BigInteger, primary_key=True))
    status: str = Field(max_length=20)
    added_us: int = Field(sa_column=Column(BigInteger, nullable=False))
    delivered_us: int = Field(sa_column=Column(BigInteger, nullable=False))
    message: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class UrgentMark(SQLModel, table=True):
    """A stored object its submitter marked urgent, and whether the hub honoured the mark.

    One row per stored version (``stix_pk``); the granted rows of the last hour are what a
    member's hourly limit counts. A submissions-view target sends granted ones first.
    """

    __tablename__ = "urgent_mark"
    __table_args__ = (Index("ix_urgent_mark_member", "member_id", "marked_us"),)
    stix_pk: int = Field(
        sa_column=Column(
            Integer, ForeignKey("stix_object.pk", ondelete="CASCADE"), primary_key=True
        )
    )
    member_id: int = Field(
        sa_column=Column(Integer, ForeignKey("member.id", ondelete="CASCADE"), nullable=False)
    )
    marked_us: int = Field(sa_column=Column(BigInteger, nullable=False))
    granted: bool
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class UrgentSetting(SQLModel, table=True):
    """An admin's decision for one member: may it mark objects urgent, and how many an
    hour (None: ``CITYSHIELD_URGENT_PER_HOUR``). Members without a row may, at the default."""

    __tablename__ = "urgent_setting"
    member_id: int = Field(
        sa_column=Column(Integer, ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    )
    allowed: bool = True
    per_hour: int | None = None


class LagPublic(SQLModel):
    """How far behind a target is, computed when asked."""

    queue_depth: int
    queue_depth_capped: bool = Field(description="true when there are at least this many")
    oldest_undelivered: str | None = Field(description="date_added of the oldest due object")
    oldest_undelivered_age_seconds: float | None


class TargetPublic(SQLModel):
    """A push target as operators see it: never its password or token (``***``)."""

    member: str
    kind: str
    url: str
    collection: str | None
    view: str
    min_members: int | None
    urgent_only: bool = False
    auth: str
    user: str | None
    secret: str | None = Field(description='"***" when a password or token is stored')
    state: str
    attempts: int
    next_attempt: str | None
    last_attempt: str | None
    last_success: str | None
    last_error: str | None
    last_error_at: str | None
    cursor: str | None = Field(description="date_added up to which everything was handled")
    lag: LagPublic | None = None


class ReceiptPublic(SQLModel):
    object_id: str
    version: str
    status: str
    date_added: str
    delivered: str
    latency_seconds: float = Field(description="from date_added to the receipt")
    message: str | None


class DeliveryPublic(ReceiptPublic):
    """One receipt of an indicator, with the member whose target it is."""

    member: str
    url: str
