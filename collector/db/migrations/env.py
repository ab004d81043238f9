"""Alembic environment: runs against the engine the collector passes in config.attributes["engine"],
or against sqlalchemy.url when run by the alembic command line."""

from alembic import context
from sqlalchemy import Connection, create_engine

from collector.db.models import Base
from collector.db.partitions import include_name


def _driver_pragma(connection: Connection, pragma: str) -> None:
    """Run `pragma` on the driver's own connection, past SQLAlchemy's transaction handling."""
    driver = connection.connection.driver_connection
    assert driver is not None, "a connection just opened is valid"
    driver.execute(pragma)


config = context.config
engine = config.attributes.get("engine") or create_engine(config.get_main_option("sqlalchemy.url", ""))

with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # SQLite alters a table by copying it; with foreign keys enforced, dropping the old copy of a table
        # that others refer to fails. The pragma only takes effect outside a transaction, so it goes to the
        # driver's connection before SQLAlchemy begins one.
        _driver_pragma(connection, "PRAGMA foreign_keys=OFF")
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        compare_type=True,
        render_as_batch=sqlite,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
    if sqlite:
        _driver_pragma(connection, "PRAGMA foreign_keys=ON")
