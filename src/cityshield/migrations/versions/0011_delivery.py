"""push delivery: targets and receipts

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "delivery_target",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("collection", sa.String(length=300), nullable=True),
        sa.Column("view", sa.String(length=100), nullable=False),
        sa.Column("min_members", sa.Integer(), nullable=True),
        sa.Column("auth", sa.String(length=10), nullable=False),
        sa.Column("auth_user", sa.String(length=200), nullable=True),
        sa.Column("secret", sa.Text(), nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("cursor_us", sa.BigInteger(), nullable=False),
        sa.Column("scope_digest", sa.String(length=64), nullable=False),
        sa.Column("next_check_us", sa.BigInteger(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_us", sa.BigInteger(), nullable=False),
        sa.Column("last_attempt_us", sa.BigInteger(), nullable=True),
        sa.Column("last_success_us", sa.BigInteger(), nullable=True),
        sa.Column("last_error_us", sa.BigInteger(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("queue_depth", sa.BigInteger(), nullable=True),
        sa.Column("oldest_pending_us", sa.BigInteger(), nullable=True),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.Column("updated_us", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("member_id", "kind", name="uq_delivery_target_member"),
    )
    op.create_table(
        "delivery_receipt",
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("object_id", sa.String(length=300), nullable=False),
        sa.Column("version_us", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("added_us", sa.BigInteger(), nullable=False),
        sa.Column("delivered_us", sa.BigInteger(), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["target_id"], ["delivery_target.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("target_id", "object_id", "version_us"),
    )
    op.create_index("ix_delivery_receipt_object", "delivery_receipt", ["object_id"])


def downgrade() -> None:
    op.drop_index("ix_delivery_receipt_object", table_name="delivery_receipt")
    op.drop_table("delivery_receipt")
    op.drop_table("delivery_target")
