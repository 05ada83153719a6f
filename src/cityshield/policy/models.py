"""Who may see each stored object, as rows the read queries join against.

Visibility is data, not code in handlers: a caller's principals are ``*`` (every member),
``m:<member id>`` and ``g:<group>`` for each of its groups. An object is visible to a
caller when an allow row names one of its principals and no deny row does (or when the
caller submitted it, or is an admin). Rows are written at ingest from the sharing policy
and rewritten when the policy is reloaded.
"""

from __future__ import annotations

from sqlalchemy import Index
from sqlmodel import Field, SQLModel


class Audience(SQLModel, table=True):
    __table_args__ = (Index("ix_audience_principal", "principal", "stix_pk"),)
    stix_pk: int = Field(foreign_key="stix_object.pk", primary_key=True, ondelete="CASCADE")
    principal: str = Field(primary_key=True, max_length=120)
    allow: bool = Field(default=True, primary_key=True)
