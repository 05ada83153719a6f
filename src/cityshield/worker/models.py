"""One row per background job: who holds its lease, and how its last runs went."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Text
from sqlmodel import Field, SQLModel


class JobRow(SQLModel, table=True):
    """A job's lease (``holder`` until ``expires_us``) and its health.

    The lease is what keeps two workers from running one job at once; the health is what
    ``cityshield jobs`` and ``GET /admin/jobs`` report. Times are epoch microseconds.
    """

    __tablename__ = "job"
    name: str = Field(primary_key=True, max_length=100)
    holder: str | None = Field(default=None, max_length=200)
    expires_us: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    started_us: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    duration_us: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    succeeded_us: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    failed_us: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    backlog: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
