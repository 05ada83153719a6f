"""The key registry: which public keys may sign for which member, and when."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column
from sqlmodel import Field, SQLModel


class SigningKey(SQLModel, table=True):
    """A member's (or, with ``member_id`` None, the hub's) Ed25519 public key.

    ``compromised_since_us`` quarantines every object the key signed that the hub received
    at or after that instant; clearing it lifts the quarantine.
    """

    __tablename__ = "signing_key"
    kid: str = Field(primary_key=True, max_length=64)
    member_id: int | None = Field(
        default=None, foreign_key="member.id", index=True, ondelete="CASCADE"
    )
    public_key: str = Field(max_length=64, description="raw 32 bytes, base64url")
    not_before_us: int = Field(sa_column=Column(BigInteger, nullable=False))
    not_after_us: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    revoked_us: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    compromised_since_us: int | None = Field(
        default=None, sa_column=Column(BigInteger, nullable=True)
    )
    created_us: int = Field(sa_column=Column(BigInteger, nullable=False))
