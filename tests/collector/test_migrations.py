"""Alembic owns the schema: upgrading from empty gives exactly the models, on SQLite and PostgreSQL."""

from datetime import UTC, datetime
from decimal import Decimal

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from collector.db.database import Database
from collector.db.engine import make_engine, upgrade
from collector.db.models import Base
from collector.db.partitions import include_name
from collector.sessions.plans import list_plans, versions_of


def test_migrations_match_the_models(database: Database) -> None:
    with database.engine.connect() as connection:
        opts = {"compare_type": True, "include_name": include_name}
        context = MigrationContext.configure(connection, opts=opts)
        assert compare_metadata(context, Base.metadata) == []


def test_upgrade_is_idempotent(db_url: str) -> None:
    Database(db_url).close()
    Database(db_url).close()  # second start finds the schema current


def test_plans_from_before_versions_become_their_first_version(db_url: str) -> None:
    """A plan stored as columns (revision 0003) is rewritten as a plan document that prices the same."""
    engine = make_engine(db_url)
    try:
        upgrade(engine, "0003")
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO price_plans (name, currency, hourly_rates, traffic_in_per_gb,"
                    " traffic_out_per_gb, increment_us, minimum_us, created_at)"
                    " VALUES ('old', 'EUR', :rates, '0.05', '0', 60000000, 900000000, :now)"
                ),
                {"rates": '{"standard": "1.20"}', "now": datetime(2026, 1, 1, tzinfo=UTC)},
            )
        upgrade(engine)
    finally:
        engine.dispose()
    database = Database(db_url)
    try:
        (version,) = database.call(lambda db: [v for plan in list_plans(db) for v in versions_of(plan)])
        assert (version.increment_us, version.minimum_us) == (60_000_000, 900_000_000)
        assert [(r.meter, r.machine_class, r.pricing.price) for r in version.rules] == [
            ("time", "standard", Decimal("1.20")),
            ("traffic_in", "", Decimal("0.05")),
        ]
    finally:
        database.close()
