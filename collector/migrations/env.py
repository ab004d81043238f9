"""Alembic environment: runs against the engine the collector passes in config.attributes["engine"],
or against sqlalchemy.url when run by the alembic command line."""

from alembic import context
from sqlalchemy import create_engine

from collector.db.models import Base

config = context.config
engine = config.attributes.get("engine") or create_engine(config.get_main_option("sqlalchemy.url"))

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
