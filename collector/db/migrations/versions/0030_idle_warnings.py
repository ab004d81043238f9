"""the idle stretch a session's renter was last warned about (before billing pauses or is discounted)

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-01 04:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('rental_sessions') as batch:
        batch.add_column(sa.Column('idle_warned_us', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('rental_sessions') as batch:
        batch.drop_column('idle_warned_us')
