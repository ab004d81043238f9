"""report gaps

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 10:00:00.000000
"""

from alembic import op
import sqlalchemy as sa
import collector.db.models


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('report_gaps',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('agent_id', sa.String(length=40), nullable=False),
    sa.Column('reported_in', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('sequence', sa.BigInteger(), nullable=True),
    sa.Column('start_us', sa.BigInteger(), nullable=True),
    sa.Column('end_us', sa.BigInteger(), nullable=True),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('received_at', collector.db.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['machines.agent_id'], name=op.f('fk_report_gaps_agent_id_machines')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_gaps'))
    )
    with op.batch_alter_table('report_gaps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_gaps_agent_id'), ['agent_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('report_gaps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_gaps_agent_id'))
    op.drop_table('report_gaps')
