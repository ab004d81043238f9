"""the audit log's head row exists from the start

Concurrent first appends to the audit log on a fresh database raced to create the head row; now the
migration creates it, so every append only locks it.

Revision ID: 0015
Revises: 0014
"""

from alembic import op


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "INSERT INTO audit_head (id, last_id, last_hash) SELECT 1, 0, '" + "0" * 64 + "' "
        "WHERE NOT EXISTS (SELECT 1 FROM audit_head WHERE id = 1)"
    )


def downgrade() -> None:
    op.execute("DELETE FROM audit_head WHERE id = 1 AND last_id = 0")
