"""urgent marks and settings, urgent flags on contributions, views and the queue, webhooks

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FLAGGED = ("contribution", "network_view", "network_pending")


def upgrade() -> None:
    for table in FLAGGED:
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(
                sa.Column("urgent", sa.Boolean(), nullable=False, server_default=sa.false())
            )
    with op.batch_alter_table("delivery_target") as batch_op:
        batch_op.add_column(
            sa.Column("urgent_only", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "urgent_mark",
        sa.Column("stix_pk", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("marked_us", sa.BigInteger(), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["stix_pk"], ["stix_object.pk"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("stix_pk"),
    )
    op.create_index("ix_urgent_mark_member", "urgent_mark", ["member_id", "marked_us"])
    op.create_table(
        "urgent_setting",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.Column("per_hour", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("member_id"),
    )


def downgrade() -> None:
    op.drop_table("urgent_setting")
    op.drop_index("ix_urgent_mark_member", table_name="urgent_mark")
    op.drop_table("urgent_mark")
    op.execute("DELETE FROM delivery_target WHERE kind = 'webhook'")
    with op.batch_alter_table("delivery_target") as batch_op:
        batch_op.drop_column("urgent_only")
    for table in reversed(FLAGGED):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("urgent")
