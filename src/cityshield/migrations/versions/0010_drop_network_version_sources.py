"""drop network version sources

Which originals each network-wide version was computed from decided, at read time, who
could see that version. Members now read their own views (0008), so nothing reads the
table; the publisher stopped writing it.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 21:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_network_version_source_stix_pk", table_name="network_version_source")
    op.drop_table("network_version_source")


def downgrade() -> None:
    # Recreated empty: versions published after the upgrade recorded no sources.
    op.create_table(
        "network_version_source",
        sa.Column("version_pk", sa.Integer(), nullable=False),
        sa.Column("stix_pk", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["stix_pk"], ["stix_object.pk"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["version_pk"], ["stix_object.pk"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("version_pk", "stix_pk"),
    )
    op.create_index(
        "ix_network_version_source_stix_pk", "network_version_source", ["stix_pk"], unique=False
    )
