"""per-member network views

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 20:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "network_view",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("ioc_id", sa.Integer(), nullable=False),
        sa.Column("object_id", sa.String(length=100), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("digest", sa.LargeBinary(length=16), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.Column("version_us", sa.BigInteger(), nullable=False),
        sa.Column("date_added_us", sa.BigInteger(), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("spec_version", sa.String(length=10), nullable=False),
        sa.Column("is_first", sa.Boolean(), nullable=False),
        sa.Column("is_latest", sa.Boolean(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["ioc_id"], ["network_ioc.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("member_id", "ioc_id"),
        sa.UniqueConstraint("member_id", "date_added_us", name="uq_network_view_date_added"),
    )
    op.create_index("ix_network_view_object", "network_view", ["member_id", "object_id"])
    op.create_table(
        "network_view_pending",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("next_ioc_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("member_id"),
    )
    # Views are built by the publisher: every member's from scratch.
    op.execute("INSERT INTO network_view_pending (member_id, next_ioc_id) SELECT id, 0 FROM member")


def downgrade() -> None:
    op.drop_table("network_view_pending")
    op.drop_index("ix_network_view_object", table_name="network_view")
    op.drop_table("network_view")
