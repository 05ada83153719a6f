"""feeds: their state and vouched values, contributions from feeds, feeds may submit

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SUBMISSIONS = "submissions"


def upgrade() -> None:
    op.create_table(
        "feed",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("salt", sa.String(length=64), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("defined", sa.Boolean(), nullable=False),
        sa.Column("attribution", sa.Text(), nullable=False),
        sa.Column("content_digest", sa.String(length=64), nullable=False),
        sa.Column("cursor", sa.Text(), nullable=True),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("last_modified", sa.String(length=100), nullable=True),
        sa.Column("next_due_us", sa.BigInteger(), nullable=False),
        sa.Column("started_us", sa.BigInteger(), nullable=True),
        sa.Column("finished_us", sa.BigInteger(), nullable=True),
        sa.Column("succeeded_us", sa.BigInteger(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("not_modified", sa.Boolean(), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("withdrawn", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("problems", sa.Text(), nullable=False),
        sa.Column("total_added", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "feed_item",
        sa.Column("feed_id", sa.Integer(), nullable=False),
        sa.Column("key_digest", sa.LargeBinary(length=16), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("object_id", sa.String(length=100), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.Column("version_us", sa.BigInteger(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["feed_id"], ["feed.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("feed_id", "key_digest"),
    )
    with op.batch_alter_table("contribution") as batch_op:
        batch_op.add_column(
            sa.Column("from_feed", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    # Feeds submit what the hub pulls into the submissions collection (docs/feeds.md).
    op.execute(
        sa.text(
            "UPDATE collection SET write_roles = write_roles || ',feed' "
            "WHERE alias = :alias AND write_roles <> '' AND write_roles NOT LIKE '%feed%'"
        ).bindparams(alias=SUBMISSIONS)
    )


def downgrade() -> None:
    op.execute(
        sa.text(
            "UPDATE collection SET write_roles = replace(write_roles, ',feed', '') "
            "WHERE alias = :alias"
        ).bindparams(alias=SUBMISSIONS)
    )
    with op.batch_alter_table("contribution") as batch_op:
        batch_op.drop_column("from_feed")
    op.drop_table("feed_item")
    op.drop_table("feed")
