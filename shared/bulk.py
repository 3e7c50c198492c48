"""Writing many rows in few statements, on PostgreSQL and SQLite alike.

psycopg2 runs a plain executemany as one round trip per row, and SQLAlchemy takes longer to compile a
statement with thousands of VALUES than the database takes to run it. On PostgreSQL we therefore hand
psycopg2's execute_values the rows (one round trip per 1,000 rows, inside the caller's transaction); on
SQLite, in-process, a cached executemany is already fast.
"""
from __future__ import annotations

from psycopg2.extras import execute_values
from sqlalchemy.dialects import sqlite


def upsert_rows(conn, table, rows: list[dict], key_columns: tuple[str, ...], page_size: int = 1000) -> None:
    """Insert rows; a row whose key exists gets the new values."""
    if not rows:
        return
    columns = list(rows[0])
    updates = [c for c in columns if c not in key_columns]
    if conn.dialect.name == "postgresql":
        quote = conn.dialect.identifier_preparer.quote
        conflict = (f"DO UPDATE SET {', '.join(f'{quote(c)} = EXCLUDED.{quote(c)}' for c in updates)}"
                    if updates else "DO NOTHING")
        sql = (f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) VALUES %s "
               f"ON CONFLICT ({', '.join(quote(k) for k in key_columns)}) {conflict}")
        cursor = conn.connection.dbapi_connection.cursor()
        try:
            execute_values(cursor, sql, [tuple(r[c] for c in columns) for r in rows], page_size=page_size)
        finally:
            cursor.close()
        return
    statement = sqlite.insert(table)
    statement = (statement.on_conflict_do_update(index_elements=list(key_columns),
                                                 set_={c: statement.excluded[c] for c in updates}) if updates
                 else statement.on_conflict_do_nothing(index_elements=list(key_columns)))
    conn.execute(statement, rows)


def insert_rows(conn, table, rows: list[dict], page_size: int = 1000) -> None:
    """Plain bulk insert (no conflict expected)."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        columns = list(rows[0])
        quote = conn.dialect.identifier_preparer.quote
        sql = f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) VALUES %s"
        cursor = conn.connection.dbapi_connection.cursor()
        try:
            execute_values(cursor, sql, [tuple(r[c] for c in columns) for r in rows], page_size=page_size)
        finally:
            cursor.close()
        return
    conn.execute(table.insert(), rows)
