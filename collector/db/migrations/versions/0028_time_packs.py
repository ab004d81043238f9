"""time packs: packs renters bought from their wallets, and the pack time each session used

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-01 02:10:00.000000
"""

from alembic import op
import sqlalchemy as sa
import collector.db.models


revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('time_packs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('renter_id', sa.String(length=100), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=30), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('price_minor', sa.BigInteger(), nullable=False),
    sa.Column('time_us', sa.BigInteger(), nullable=True),
    sa.Column('window', sa.String(length=30), server_default='', nullable=False),
    sa.Column('bought_at', collector.db.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('valid_until', collector.db.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('when_used_up', sa.String(length=10), server_default='payg', nullable=False),
    sa.Column('idempotency_key', sa.String(length=80), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['price_plans.id'], name=op.f('fk_time_packs_plan_id_price_plans')),
    sa.ForeignKeyConstraint(['renter_id'], ['renters.id'], name=op.f('fk_time_packs_renter_id_renters')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_time_packs')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_time_packs_idempotency_key'))
    )
    with op.batch_alter_table('time_packs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_time_packs_renter_id'), ['renter_id'], unique=False)
    op.create_table('pack_uses',
    sa.Column('pack_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('session_id', sa.String(length=40), nullable=False),
    sa.Column('used_us', sa.BigInteger(), nullable=False),
    sa.Column('warned', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.ForeignKeyConstraint(['pack_id'], ['time_packs.id'], name=op.f('fk_pack_uses_pack_id_time_packs')),
    sa.ForeignKeyConstraint(['session_id'], ['rental_sessions.id'], name=op.f('fk_pack_uses_session_id_rental_sessions')),
    sa.PrimaryKeyConstraint('pack_id', 'session_id', name=op.f('pk_pack_uses'))
    )
    with op.batch_alter_table('pack_uses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pack_uses_session_id'), ['session_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('pack_uses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pack_uses_session_id'))
    op.drop_table('pack_uses')
    with op.batch_alter_table('time_packs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_time_packs_renter_id'))
    op.drop_table('time_packs')
