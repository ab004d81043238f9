"""dynamic prices: published price steps, occupancy history, price locks of sessions

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-01 00:10:00.000000
"""

from alembic import op
import sqlalchemy as sa
import collector.db.models


revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('price_steps',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('machine_class', sa.String(length=64), nullable=False),
    sa.Column('starts_at', collector.db.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', collector.db.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('multiplier', sa.String(length=20), nullable=False),
    sa.Column('occupancy', sa.String(length=40), nullable=False),
    sa.Column('published_at', collector.db.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['price_plans.id'], name=op.f('fk_price_steps_plan_id_price_plans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_price_steps')),
    sa.UniqueConstraint('plan_id', 'machine_class', 'starts_at', name=op.f('uq_price_steps_plan_id_machine_class_starts_at'))
    )
    op.create_table('class_occupancy',
    sa.Column('machine_class', sa.String(length=64), nullable=False),
    sa.Column('hour_start', collector.db.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('occupied_us', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('machine_class', 'hour_start', name=op.f('pk_class_occupancy'))
    )
    op.create_table('occupancy_marks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('counted_from', collector.db.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('counted_until', collector.db.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_occupancy_marks'))
    )
    with op.batch_alter_table('rental_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('price_locks', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('price_lock_us', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('rental_sessions', schema=None) as batch_op:
        batch_op.drop_column('price_lock_us')
        batch_op.drop_column('price_locks')
    op.drop_table('occupancy_marks')
    op.drop_table('class_occupancy')
    op.drop_table('price_steps')
