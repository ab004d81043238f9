"""Bulk inserts for the hot paths: PostgreSQL's COPY where the rows allow it, Core executemany elsewhere.

COPY streams every row in one command (psycopg's `cursor.copy`), several times faster than even batched
multi-row INSERTs; SQLite has no COPY and its executemany is already a tight C loop over one prepared
statement. Rows are dicts keyed by column name, as Core's executemany takes them.
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
    if connection.dialect.name == "postgresql" and _copyable(rows[0]):
        _copy(connection, table, rows)
    else:
        connection.execute(insert(table), list(rows))


def _copyable(row: dict[str, Any]) -> bool:
    return all(isinstance(value, _COPYABLE) for value in row.values())


def _copy(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    columns = list(rows[0])
    names = ", ".join(f'"{name}"' for name in columns)
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([row[name] for name in columns])
