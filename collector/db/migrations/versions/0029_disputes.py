"""disputes of invoice lines with their evidence; how each invoice line's quantity was obtained

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-01 02:30:00.000000
"""

from alembic import op
import sqlalchemy as sa
import collector.db.models


revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('disputes',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('invoice_id', sa.String(length=40), nullable=False),
    sa.Column('line_id', sa.Integer(), nullable=False),
    sa.Column('renter_id', sa.String(length=100), nullable=False),
    sa.Column('opened_at', collector.db.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('opened_by', sa.String(length=120), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=False),
    sa.Column('rerated_minor', sa.BigInteger(), nullable=False),
    sa.Column('report_count', sa.Integer(), nullable=False),
    sa.Column('resolved_at', collector.db.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolved_by', sa.String(length=120), server_default='', nullable=False),
    sa.Column('resolution', sa.Text(), server_default='', nullable=False),
    sa.Column('credit_note_id', sa.String(length=40), nullable=True),
    sa.ForeignKeyConstraint(['credit_note_id'], ['credit_notes.id'], name=op.f('fk_disputes_credit_note_id_credit_notes')),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_disputes_invoice_id_invoices')),
    sa.ForeignKeyConstraint(['line_id'], ['invoice_lines.id'], name=op.f('fk_disputes_line_id_invoice_lines')),
    sa.ForeignKeyConstraint(['renter_id'], ['renters.id'], name=op.f('fk_disputes_renter_id_renters')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disputes'))
    )
    with op.batch_alter_table('disputes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disputes_invoice_id'), ['invoice_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_disputes_renter_id'), ['renter_id'], unique=False)
    with op.batch_alter_table('invoice_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('basis', sa.String(length=10), server_default='measured', nullable=False))
        batch_op.add_column(sa.Column('covered_us', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('uncovered_us', sa.BigInteger(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('invoice_lines', schema=None) as batch_op:
        batch_op.drop_column('uncovered_us')
        batch_op.drop_column('covered_us')
        batch_op.drop_column('basis')
    with op.batch_alter_table('disputes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_disputes_renter_id'))
        batch_op.drop_index(batch_op.f('ix_disputes_invoice_id'))
    op.drop_table('disputes')
