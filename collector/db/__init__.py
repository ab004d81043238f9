"""The collector's storage: SQLAlchemy 2.x models, engine set-up and Alembic migrations."""
