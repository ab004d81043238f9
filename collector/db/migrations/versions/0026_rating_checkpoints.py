"""rating checkpoints of sessions; indexes for the rating, balance and invoicing jobs' queries

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-01 02:15:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rating_checkpoints',
    sa.Column('session_id', sa.String(length=40), nullable=False),
    sa.Column('basis', sa.String(length=64), nullable=False),
    sa.Column('report_id', sa.BigInteger(), nullable=False),
    sa.Column('until_us', sa.BigInteger(), nullable=True),
    sa.Column('state', sa.Text(), nullable=True),
    sa.Column('previous_until_us', sa.BigInteger(), nullable=True),
    sa.Column('previous_state', sa.Text(), nullable=True),
    sa.Column('open_from_us', sa.BigInteger(), nullable=True),
    sa.Column('open_until_us', sa.BigInteger(), nullable=True),
    sa.Column('open_usage', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['session_id'], ['rental_sessions.id'], name=op.f('fk_rating_checkpoints_session_id_rental_sessions')),
    sa.PrimaryKeyConstraint('session_id', name=op.f('pk_rating_checkpoints'))
    )
    # Open sessions get their row now (rated from their start once): new ones get it when they start.
    op.execute(
        "INSERT INTO rating_checkpoints (session_id, basis, report_id) "
        "SELECT id, '', 0 FROM rental_sessions WHERE ended_at IS NULL"
    )
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.create_index('ix_reports_agent_id', ['agent_id', 'id'], unique=False)
        batch_op.create_index('ix_reports_agent_received', ['agent_id', 'received_at'], unique=False)
    with op.batch_alter_table('rental_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_rental_sessions_ended', ['ended_at'], unique=False)
    with op.batch_alter_table('invoice_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoice_lines_session_id'), ['session_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('invoice_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invoice_lines_session_id'))
    with op.batch_alter_table('rental_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_rental_sessions_ended')
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_index('ix_reports_agent_received')
        batch_op.drop_index('ix_reports_agent_id')
    op.drop_table('rating_checkpoints')
