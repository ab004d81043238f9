"""Bulk inserts for the hot paths: PostgreSQL's COPY where the rows allow it, Core executemany elsewhere.

COPY streams every row in one command (psycopg's `cursor.copy`), several times faster than even batched
multi-row INSERTs; SQLite has no COPY, and its driver's executemany is a tight C loop over one prepared
statement. Only rows of plain values (int, float, str, None) take these paths; others (JSON, dates,
bytes) go through Core's executemany, which converts them. Rows are dicts keyed by column name.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table, insert

# Column types COPY's text format takes from plain Python values (no JSON, no binary adaptation needed).
_COPYABLE = (int, float, str, type(None))


def bulk_insert(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert `rows` (all with the same keys) into `table` inside the connection's transaction."""
    if not rows:
        return
    plain = _copyable(rows[0])
    if plain and connection.dialect.name == "postgresql":
        _copy(connection, table, rows)
    elif plain and connection.dialect.name == "sqlite":
        _driver_executemany(connection, table, rows)
    else:
        connection.execute(insert(table), list(rows))


def _copyable(row: dict[str, Any]) -> bool:
    return all(isinstance(value, _COPYABLE) for value in row.values())


def _driver_executemany(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """sqlite3's executemany with plain tuples: SQLAlchemy's per-row parameter processing (a third of an
    executemany's time for plain values, none of which it changes) is skipped."""
    columns = list(rows[0])
    names = ", ".join(f'"{name}"' for name in columns)
    marks = ", ".join("?" for _ in columns)
    values = [tuple(row[name] for name in columns) for row in rows]
    connection.exec_driver_sql(f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', values)


def _copy(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    columns = list(rows[0])
    names = ", ".join(f'"{name}"' for name in columns)
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([row[name] for name in columns])
