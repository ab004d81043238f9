"""invoice numbers without gaps

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 15:20:00

Existing invoices are numbered RM-000001, RM-000002, ... in the order they were issued.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "invoice_counters",
        sa.Column("prefix", sa.String(length=20), nullable=False),
        sa.Column("last_number", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("prefix", name=op.f("pk_invoice_counters")),
    )
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("number", sa.String(length=40), nullable=True))
    connection = op.get_bind()
    invoices = sa.table("invoices", sa.column("id", sa.String), sa.column("number", sa.String),
                        sa.column("issued_at", sa.DateTime))  # fmt: skip
    ids = connection.execute(sa.select(invoices.c.id).order_by(invoices.c.issued_at, invoices.c.id)).scalars().all()
    for position, invoice_id in enumerate(ids, start=1):
        connection.execute(invoices.update().where(invoices.c.id == invoice_id).values(number=f"RM-{position:06d}"))
    if ids:
        counters = sa.table("invoice_counters", sa.column("prefix", sa.String), sa.column("last_number", sa.BigInteger))
        connection.execute(counters.insert().values(prefix="RM", last_number=len(ids)))
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.alter_column("number", existing_type=sa.String(length=40), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_invoices_number"), ["number"])


def downgrade() -> None:
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_invoices_number"), type_="unique")
        batch_op.drop_column("number")
    op.drop_table("invoice_counters")
