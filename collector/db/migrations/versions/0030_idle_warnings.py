"""the idle stretch a session's renter was last warned about (before billing pauses or is discounted);
the energy a machine's CPU packages used in each sample (RAPL)

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
    with op.batch_alter_table('samples') as batch:
        batch.add_column(sa.Column('host_energy_mj', sa.BigInteger(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('samples') as batch:
        batch.drop_column('host_energy_mj')
    with op.batch_alter_table('rental_sessions') as batch:
        batch.drop_column('idle_warned_us')
