"""Updating many rows, each to values of its own, in one statement (the counterpart of shared/bulk.py's inserts).

SQLAlchemy runs an executemany UPDATE on psycopg2 as one statement and one round trip per row. On PostgreSQL the rows
go instead as one ``UPDATE … FROM (VALUES …)`` per 1,000 (psycopg2's execute_values), each value cast to its column's
type; on SQLite, in-process, the cached executemany is already cheap. Runs in the caller's transaction.
"""
from __future__ import annotations

from psycopg2.extras import execute_values
from sqlalchemy import bindparam, update

PAGE = 1000


def update_by_key(conn, table, rows: list[dict], key_columns: tuple[str, ...], where=None) -> int:
    """Each row (all with the same columns) gives its non-key columns to the table's row with its key; ``where``, a
    condition on the table, leaves the rows it does not hold as they are. Returns how many rows were updated."""
    if not rows:
        return 0
    columns = list(rows[0])
    if conn.dialect.name == "postgresql":
        return _update_postgres(conn, table, columns, rows, key_columns, where)
    statement = update(table).where(*(table.c[k] == bindparam(f"key_{k}") for k in key_columns))
    if where is not None:
        statement = statement.where(where)
    statement = statement.values({c: bindparam(f"new_{c}") for c in columns if c not in key_columns})
    given = [{(f"key_{c}" if c in key_columns else f"new_{c}"): value for c, value in row.items()} for row in rows]
    return conn.execute(statement, given).rowcount


def _update_postgres(conn, table, columns: list[str], rows: list[dict], key_columns: tuple[str, ...], where) -> int:
    quote = conn.dialect.identifier_preparer.quote
    name = quote(table.name)

    def given(column: str) -> str:
        # VALUES has no column types of its own (a NULL, a text): each value becomes its column's type.
        return f"CAST(given.{quote(column)} AS {table.c[column].type.compile(dialect=conn.dialect)})"

    sets = ", ".join(f"{quote(c)} = {given(c)}" for c in columns if c not in key_columns)
    condition = " AND ".join(f"{name}.{quote(k)} = {given(k)}" for k in key_columns)
    if where is not None:
        condition += f" AND {where.compile(dialect=conn.dialect, compile_kwargs={'literal_binds': True})}"
    sql = (f"UPDATE {name} SET {sets} FROM (VALUES %s) AS given ({', '.join(quote(c) for c in columns)}) "
           f"WHERE {condition}")
    values = [tuple(row[c] for c in columns) for row in rows]
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        updated = 0
        for start in range(0, len(values), PAGE):      # a page per statement: rowcount is the last statement's
            execute_values(cursor, sql, values[start:start + PAGE], page_size=PAGE)
            updated += cursor.rowcount
        return updated
    finally:
        cursor.close()
