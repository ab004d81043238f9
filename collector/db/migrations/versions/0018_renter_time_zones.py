"""renter time zones: billing periods at local midnights, invoices keep the zone they were cut in

Revision ID: 0018
Revises: 0016
"""

from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('renters', schema=None) as batch_op:
        batch_op.add_column(sa.Column('time_zone', sa.String(length=64), server_default='', nullable=False))
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('time_zone', sa.String(length=64), server_default='', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.drop_column('time_zone')
    with op.batch_alter_table('renters', schema=None) as batch_op:
        batch_op.drop_column('time_zone')
