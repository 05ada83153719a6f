"""lean dedup indexes: a 16-byte key digest, a pending queue instead of a dirty flag, the
network indicator id set by the publisher, no contribution indexes the lookups do not use

Every envelope into ``submissions`` writes network IOCs and contributions in its own
transaction; each random-key index entry it adds dirties a page the commit must write.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 09:40:00
"""

import hashlib
import uuid
from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "network_pending",
        sa.Column(
            "ioc_id",
            sa.Integer(),
            sa.ForeignKey("network_ioc.id", ondelete="CASCADE"),
            primary_key=True,
        ),
    )
    op.execute("INSERT INTO network_pending (ioc_id) SELECT id FROM network_ioc WHERE dirty")
    with op.batch_alter_table("network_ioc", schema=None) as batch_op:
        batch_op.drop_index("ix_network_ioc_dirty")
        batch_op.drop_column("dirty")
        batch_op.drop_column("key_hash")
        batch_op.add_column(sa.Column("key_digest", sa.LargeBinary(length=16), nullable=True))
    _fill("key_digest", lambda key: hashlib.sha256(key.encode()).digest()[:16])
    with op.batch_alter_table("network_ioc", schema=None) as batch_op:
        batch_op.alter_column("key_digest", existing_type=sa.LargeBinary(16), nullable=False)
        batch_op.alter_column("indicator_id", existing_type=sa.String(100), nullable=True)
    op.create_index("uq_network_ioc_key_digest", "network_ioc", ["key_digest"], unique=True)
    with op.batch_alter_table("contribution", schema=None) as batch_op:
        batch_op.drop_index("ix_contribution_ioc_id")
        batch_op.drop_index("ix_contribution_object_id")


def downgrade() -> None:
    with op.batch_alter_table("contribution", schema=None) as batch_op:
        batch_op.create_index("ix_contribution_object_id", ["object_id"], unique=False)
        batch_op.create_index("ix_contribution_ioc_id", ["ioc_id"], unique=False)
    op.drop_index("uq_network_ioc_key_digest", "network_ioc")
    with op.batch_alter_table("network_ioc", schema=None) as batch_op:
        batch_op.drop_column("key_digest")
        batch_op.add_column(sa.Column("key_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("dirty", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    _fill("key_hash", lambda key: hashlib.sha256(key.encode()).hexdigest())
    op.execute(
        "UPDATE network_ioc SET dirty = true WHERE id IN (SELECT ioc_id FROM network_pending)"
    )
    _name_unpublished()
    with op.batch_alter_table("network_ioc", schema=None) as batch_op:
        batch_op.alter_column("key_hash", existing_type=sa.String(64), nullable=False)
        batch_op.alter_column("indicator_id", existing_type=sa.String(100), nullable=False)
        batch_op.create_unique_constraint("uq_network_ioc_key_hash", ["key_hash"])
        batch_op.create_index("ix_network_ioc_dirty", ["dirty"], unique=False)
    op.drop_table("network_pending")


def _fill(column: str, derive: Callable[[str], object]) -> None:
    """Set ``column`` of every IOC row from its canonical key."""
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, key FROM network_ioc")).all()
    if rows:
        bind.execute(
            sa.text(f"UPDATE network_ioc SET {column} = :value WHERE id = :id"),
            [{"value": derive(key), "id": ioc_id} for ioc_id, key in rows],
        )


NETWORK_NAMESPACE = uuid.UUID("6f1c3a52-3d1e-4c55-9a0e-c1d5e1e5a003")  # dedup/publish.py


def _name_unpublished() -> None:
    """Give IOCs not yet published the id the publisher would give them (0006 needs one)."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.text("SELECT id, key, generation FROM network_ioc WHERE indicator_id IS NULL")
    ).all()
    if rows:
        bind.execute(
            sa.text("UPDATE network_ioc SET indicator_id = :value WHERE id = :id"),
            [
                {"value": f"indicator--{uuid.uuid5(NETWORK_NAMESPACE, _name(key, gen))}", "id": i}
                for i, key, gen in rows
            ],
        )


def _name(key: str, generation: int) -> str:
    return key if generation == 0 else f"{key}#{generation}"
