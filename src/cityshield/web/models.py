"""The web page's sessions: one row per signed-in browser.

Only a hash of the session secret is stored (the secret lives in the browser's cookie), as
with member tokens: a copy of the database does not let anyone sign in as an analyst.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer
from sqlmodel import Field, SQLModel


class WebSession(SQLModel, table=True):
    """A signed-in browser. Times are epoch microseconds.

    ``token_hash`` is the member's token hash when it signed in: rotating the token (or
    removing the member, which cascades) ends every session opened with the old one.
    """

    __tablename__ = "web_session"
    __table_args__ = (Index("ix_web_session_expires", "expires_us"),)
    id_hash: str = Field(primary_key=True, max_length=64, description="sha256 of the secret")
    member_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("member.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    token_hash: str = Field(max_length=64)
    created_us: int = Field(sa_column=Column(BigInteger, nullable=False))
    seen_us: int = Field(sa_column=Column(BigInteger, nullable=False))
    expires_us: int = Field(
        sa_column=Column(BigInteger, nullable=False), description="the absolute end"
    )
