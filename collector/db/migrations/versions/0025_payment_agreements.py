"""payment agreements (Alipay agreement pay, WeChat Pay entrusted deduction), reconciliation runs, the
gateway's own payment time of an order

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-01 02:20:00.000000
"""

from alembic import op
import sqlalchemy as sa
import collector.db.models


revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('payment_agreements',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('gateway', sa.String(length=20), nullable=False),
    sa.Column('renter_id', sa.String(length=100), nullable=False),
    sa.Column('external_no', sa.String(length=32), nullable=False),
    sa.Column('agreement_no', sa.String(length=64), server_default='', nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('sign_url', sa.Text(), server_default='', nullable=False),
    sa.Column('created_at', collector.db.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('signed_at', collector.db.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', collector.db.models.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_agreements')),
    sa.UniqueConstraint('gateway', 'external_no', name=op.f('uq_payment_agreements_gateway_external_no'))
    )
    op.create_index(op.f('ix_payment_agreements_renter_id'), 'payment_agreements', ['renter_id'], unique=False)
    op.create_index(op.f('ix_payment_agreements_state'), 'payment_agreements', ['state'], unique=False)
    op.create_table('reconciliation_runs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('gateway', sa.String(length=20), nullable=False),
    sa.Column('statement_date', sa.String(length=10), nullable=False),
    sa.Column('matched', sa.Integer(), nullable=False),
    sa.Column('mismatches', sa.Integer(), nullable=False),
    sa.Column('ran_at', collector.db.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reconciliation_runs'))
    )
    op.create_index(op.f('ix_reconciliation_runs_statement_date'), 'reconciliation_runs', ['statement_date'],
                    unique=False)
    with op.batch_alter_table('gateway_orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('gateway_paid_at', collector.db.models.UTCDateTime(timezone=True),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('gateway_orders', schema=None) as batch_op:
        batch_op.drop_column('gateway_paid_at')
    op.drop_index(op.f('ix_reconciliation_runs_statement_date'), table_name='reconciliation_runs')
    op.drop_table('reconciliation_runs')
    op.drop_index(op.f('ix_payment_agreements_state'), table_name='payment_agreements')
    op.drop_index(op.f('ix_payment_agreements_renter_id'), table_name='payment_agreements')
    op.drop_table('payment_agreements')
