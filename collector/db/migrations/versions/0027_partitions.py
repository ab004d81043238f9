"""job leases; reports unique by (agent, sequence, end); raw tables partitioned by month on PostgreSQL

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-01 02:30:00.000000
"""

from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa
import collector.db.models
from collector.db.partitions import PARTITIONED_TABLES, MONTHS_AHEAD, Month


revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('job_leases',
    sa.Column('job', sa.String(length=60), nullable=False),
    sa.Column('period', sa.BigInteger(), nullable=False),
    sa.Column('holder', sa.String(length=120), nullable=False),
    sa.Column('leased_until', collector.db.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('job', name=op.f('pk_job_leases'))
    )
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_constraint('uq_reports_agent_id_sequence', type_='unique')
        batch_op.create_unique_constraint(
            batch_op.f('uq_reports_agent_id_sequence_end_us'), ['agent_id', 'sequence', 'end_us']
        )
    if op.get_bind().dialect.name == 'postgresql':
        for table in PARTITIONED_TABLES:
            _partition(table)


def _partition(table: str) -> None:
    """Rebuild `table` partitioned by month of end_us, keeping its rows, id sequence, keys and indexes."""
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    indexes = inspector.get_indexes(table)
    uniques = inspector.get_unique_constraints(table)
    foreign = inspector.get_foreign_keys(table)
    new = f'{table}_partitioned'
    op.execute(f'CREATE TABLE {new} (LIKE {table} INCLUDING DEFAULTS) PARTITION BY RANGE (end_us)')
    oldest = bind.scalar(sa.text(f'SELECT min(end_us) FROM {table}'))
    now = Month.of(datetime.now(UTC))
    month = Month.of(datetime.fromtimestamp(oldest / 1e6, UTC)) if oldest is not None else now
    month = min(month, now)
    last = now
    for _ in range(MONTHS_AHEAD):
        last = last.next()
    while month <= last:
        op.execute(f'CREATE TABLE {table}_{month.suffix()} PARTITION OF {new} '
                   f'FOR VALUES FROM ({month.start_us()}) TO ({month.end_us()})')
        month = month.next()
    op.execute(f'CREATE TABLE {table}_default PARTITION OF {new} DEFAULT')
    op.execute(f'INSERT INTO {new} SELECT * FROM {table}')
    sequence = bind.scalar(sa.text('SELECT pg_get_serial_sequence(:t, :c)'), {'t': table, 'c': 'id'})
    if sequence:
        op.execute(f'ALTER SEQUENCE {sequence} OWNED BY {new}.id')
    op.execute(f'DROP TABLE {table}')
    op.execute(f'ALTER TABLE {new} RENAME TO {table}')
    op.execute(f'ALTER TABLE {table} ADD CONSTRAINT pk_{table} PRIMARY KEY (id, end_us)')
    for key in foreign:
        columns = ', '.join(key['constrained_columns'])
        referred = ', '.join(str(column) for column in key['referred_columns'])
        op.execute(f'ALTER TABLE {table} ADD CONSTRAINT {key["name"]} FOREIGN KEY ({columns}) '
                   f'REFERENCES {key["referred_table"]} ({referred})')
    for unique in uniques:
        assert 'end_us' in unique['column_names'], f'{unique["name"]} must hold the partition key'
        op.execute(f'ALTER TABLE {table} ADD CONSTRAINT {unique["name"]} '
                   f'UNIQUE ({", ".join(str(c) for c in unique["column_names"])})')
    for index in indexes:
        if index.get('duplicates_constraint'):
            continue
        kind = 'UNIQUE INDEX' if index['unique'] else 'INDEX'
        op.execute(f'CREATE {kind} {index["name"]} ON {table} ({", ".join(str(c) for c in index["column_names"])})')


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        raise NotImplementedError('the partitioned raw tables are not turned back into plain tables')
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_reports_agent_id_sequence_end_us'), type_='unique')
        batch_op.create_unique_constraint('uq_reports_agent_id_sequence', ['agent_id', 'sequence'])
    op.drop_table('job_leases')
