"""a change counter on queued IOCs and a count of the collection lock's holders, so the
network publisher can build outside its write transaction (docs/dedup.md)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("network_pending") as batch_op:
        batch_op.add_column(
            sa.Column("seq", sa.BigInteger(), nullable=False, server_default=sa.text("0"))
        )
    with op.batch_alter_table("collection") as batch_op:
        batch_op.add_column(
            sa.Column("locks_taken", sa.BigInteger(), nullable=False, server_default=sa.text("0"))
        )


def downgrade() -> None:
    with op.batch_alter_table("collection") as batch_op:
        batch_op.drop_column("locks_taken")
    with op.batch_alter_table("network_pending") as batch_op:
        batch_op.drop_column("seq")
