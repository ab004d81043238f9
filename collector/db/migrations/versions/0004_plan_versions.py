"""plan versions as documents; rental terms; longer invoice line keys

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 15:10:00

Each existing plan becomes version 1 of itself, written as the plan document its columns described.
"""

from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

import billing
import collector.db.models

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _seconds(micros: int) -> str:
    return f"{billing.plain(Decimal(micros).scaleb(-6))}s"


def upgrade() -> None:
    op.create_table(
        "plan_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("effective_from", collector.db.models.UTCDateTime(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("created_at", collector.db.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["plan_id"], ["price_plans.id"], name=op.f("fk_plan_versions_plan_id_price_plans")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_versions")),
        sa.UniqueConstraint("plan_id", "effective_from", name=op.f("uq_plan_versions_plan_id_effective_from")),
        sa.UniqueConstraint("plan_id", "number", name=op.f("uq_plan_versions_plan_id_number")),
    )
    with op.batch_alter_table("plan_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_versions_plan_id"), ["plan_id"], unique=False)

    connection = op.get_bind()
    plans = sa.table(
        "price_plans", sa.column("id", sa.Integer), sa.column("name", sa.String), sa.column("currency", sa.String),
        sa.column("hourly_rates", sa.JSON), sa.column("traffic_in_per_gb", sa.String),
        sa.column("traffic_out_per_gb", sa.String), sa.column("increment_us", sa.BigInteger),
        sa.column("minimum_us", sa.BigInteger), sa.column("created_at", collector.db.models.UTCDateTime()),
    )  # fmt: skip
    versions = sa.table(
        "plan_versions", sa.column("plan_id", sa.Integer), sa.column("number", sa.Integer),
        sa.column("effective_from", collector.db.models.UTCDateTime()), sa.column("document", sa.Text),
        sa.column("created_at", collector.db.models.UTCDateTime()),
    )  # fmt: skip
    for row in connection.execute(sa.select(plans)).mappings().all():
        document = billing.simple_document(
            row["name"], row["currency"], row["hourly_rates"],
            "" if Decimal(row["traffic_in_per_gb"] or 0) == 0 else row["traffic_in_per_gb"],
            "" if Decimal(row["traffic_out_per_gb"] or 0) == 0 else row["traffic_out_per_gb"],
            increment=_seconds(row["increment_us"]) if row["increment_us"] > 1 else "",
            minimum=_seconds(row["minimum_us"]) if row["minimum_us"] else "",
        )  # fmt: skip
        connection.execute(
            versions.insert().values(
                plan_id=row["id"], number=1, effective_from=datetime(1970, 1, 1, tzinfo=UTC),
                document=document, created_at=row["created_at"],
            )  # fmt: skip
        )

    with op.batch_alter_table("price_plans", schema=None) as batch_op:
        for column in ("hourly_rates", "traffic_in_per_gb", "traffic_out_per_gb", "increment_us", "minimum_us"):
            batch_op.drop_column(column)

    with op.batch_alter_table("rental_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("service_level", sa.String(length=30), server_default="", nullable=False))
        batch_op.add_column(sa.Column("member_tier", sa.String(length=30), server_default="", nullable=False))
        batch_op.add_column(sa.Column("coupon", sa.String(length=30), server_default="", nullable=False))
        batch_op.add_column(sa.Column("resources", sa.JSON(), server_default="{}", nullable=False))

    with op.batch_alter_table("invoice_lines", schema=None) as batch_op:
        batch_op.alter_column("meter", existing_type=sa.String(length=40), type_=sa.String(length=100),
                              existing_nullable=False)  # fmt: skip
        batch_op.alter_column("description", existing_type=sa.String(length=200), type_=sa.Text(),
                              existing_nullable=False)  # fmt: skip


def downgrade() -> None:
    raise NotImplementedError("plan versions cannot be folded back into single-price columns")
