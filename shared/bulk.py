"""Writing many rows in few statements, on PostgreSQL and SQLite alike.

psycopg2 runs a plain executemany as one round trip per row, and SQLAlchemy takes longer to compile a
statement with thousands of VALUES than the database takes to run it. On PostgreSQL:

* a few hundred rows or more are COPYed into a temporary table of the session and moved into the table with one
  INSERT … SELECT (… ON CONFLICT for an upsert). Measured on the benchmark machine, 100,000 grade records took
  ~6 s through execute_values and ~1 s this way, most of the difference being psycopg2 quoting every value. The
  rows go in COPY's text format, written a column at a time (``_copy_text``): the csv module looked at every
  character, a quarter of a millisecond per notice of ~2 KB (notices 0.24 -> 0.09 s for the deciding benchmark's
  6,886, 100,000 grade-like records 0.37 -> 0.31 s);
* fewer rows go through psycopg2's execute_values (one round trip per 1,000 rows).

Rows may be given as dicts (``insert_rows``, ``upsert_rows``) or, cheaper for a caller that has them, as tuples in
the order of a list of columns (``insert_tuples``, ``upsert_tuples``). An upsert costs PostgreSQL about half as much
again as a plain insert even when no key exists yet: a caller that knows which rows are new inserts those.

Both run inside the caller's transaction. On SQLite, in-process, a cached executemany is already fast.

COPY and eventlet: psycopg2 refuses COPY while a green wait callback is set (psycogreen, under nameko). The callback
is lifted for the COPY alone, which then blocks the process for its few milliseconds; that is safe because it writes
only the session's own temporary table, so it can never wait for a lock another green thread holds. The INSERT …
SELECT that touches the real table runs cooperatively again.
"""
from __future__ import annotations

import io
import zlib
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from operator import itemgetter

from psycopg2 import extensions
from psycopg2.extras import execute_values
from sqlalchemy.dialects import sqlite

COPY_FROM_ROWS = 200          # fewer rows: execute_values (a COPY costs three round trips)
_COPYABLE = (str, int, float, bool, type(None), datetime, date, Decimal)   # values whose str() PostgreSQL reads back
_EXACTLY_COPYABLE = frozenset(_COPYABLE)    # the usual case, checked without issubclass
_TEXT_ONLY = {str}
_NULL = "\\N"


def upsert_rows(conn, table, rows: list[dict], key_columns: tuple[str, ...], page_size: int = 1000) -> None:
    """Insert rows; a row whose key exists gets the new values. ``rows`` must not repeat a key."""
    if rows:
        columns = list(rows[0])
        upsert_tuples(conn, table, columns, _as_tuples(rows, columns), key_columns, page_size)


def insert_rows(conn, table, rows: list[dict], page_size: int = 1000) -> None:
    """Plain bulk insert (no conflict expected)."""
    if rows:
        columns = list(rows[0])
        insert_tuples(conn, table, columns, _as_tuples(rows, columns), page_size)


def upsert_tuples(conn, table, columns, rows: list[tuple], key_columns: tuple[str, ...],
                  page_size: int = 1000) -> None:
    """``upsert_rows`` for rows given as tuples in the order of ``columns`` (no dict per row to build)."""
    if not rows:
        return
    columns = list(columns)
    updates = [c for c in columns if c not in key_columns]
    if conn.dialect.name == "postgresql":
        quote = conn.dialect.identifier_preparer.quote
        conflict = (f"DO UPDATE SET {', '.join(f'{quote(c)} = EXCLUDED.{quote(c)}' for c in updates)}"
                    if updates else "DO NOTHING")
        on_conflict = f" ON CONFLICT ({', '.join(quote(k) for k in key_columns)}) {conflict}"
        _insert_postgres(conn, table, columns, rows, on_conflict, page_size)
        return
    statement = sqlite.insert(table)
    statement = (statement.on_conflict_do_update(index_elements=list(key_columns),
                                                 set_={c: statement.excluded[c] for c in updates}) if updates
                 else statement.on_conflict_do_nothing(index_elements=list(key_columns)))
    conn.execute(statement, [dict(zip(columns, row)) for row in rows])


def insert_tuples(conn, table, columns, rows: list[tuple], page_size: int = 1000) -> None:
    """``insert_rows`` for rows given as tuples in the order of ``columns``."""
    if not rows:
        return
    columns = list(columns)
    if conn.dialect.name == "postgresql":
        _insert_postgres(conn, table, columns, rows, "", page_size)
        return
    conn.execute(table.insert(), [dict(zip(columns, row)) for row in rows])


def _as_tuples(rows: list[dict], columns: list[str]) -> list[tuple]:
    if len(columns) == 1:
        (column,) = columns
        return [(row[column],) for row in rows]
    return list(map(itemgetter(*columns), rows))


def _insert_postgres(conn, table, columns: list[str], values: list[tuple], on_conflict: str, page_size: int) -> None:
    quote = conn.dialect.identifier_preparer.quote
    names = ", ".join(quote(c) for c in columns)
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        # One column is left to execute_values: its rows would be lines of one field, an empty string an empty line.
        copyable = len(values) >= COPY_FROM_ROWS and len(columns) > 1
        text = _copy_text(values) if copyable else None
        if text is not None:
            scratch = _scratch_table(conn, cursor, quote(table.name), names, table.name, columns)
            with _blocking():
                cursor.copy_expert(f"COPY {scratch} ({names}) FROM STDIN", io.StringIO(text))
            cursor.execute(f"INSERT INTO {quote(table.name)} ({names}) SELECT {names} FROM {scratch}{on_conflict}")
        else:
            execute_values(cursor, f"INSERT INTO {quote(table.name)} ({names}) VALUES %s{on_conflict}", values,
                           page_size=page_size)
    finally:
        cursor.close()


def _copy_text(values: list[tuple]) -> str | None:
    """The rows in COPY's text format (a tab between fields, a line per row, ``\\N`` for NULL), or None when a
    value is of a type COPY would not read as psycopg2 would write it (those rows go through execute_values).
    Built a column at a time so that the loops are the interpreter's own: a column is joined, escaped in one pass
    per special character (most columns have none) and split again."""
    columns = []
    for column in zip(*values):
        kinds = set(map(type, column))
        if not kinds <= _EXACTLY_COPYABLE and not all(issubclass(kind, _COPYABLE) for kind in kinds):
            return None
        if kinds == _TEXT_ONLY:
            columns.append(_escaped(column))
            continue
        # str(v) as the csv module wrote them before (datetimes "2024-03-05 02:00:00+00:00", booleans "True");
        # a subclass of str (an enum of strings) by its value, not by its name
        texts = _escaped(["" if v is None else v if type(v) is str else str.__str__(v) if isinstance(v, str)
                          else str(v) for v in column])
        columns.append([_NULL if v is None else t for v, t in zip(column, texts)] if type(None) in kinds else texts)
    return "\n".join(map("\t".join, zip(*columns))) + "\n"


def _escaped(texts) -> list[str] | tuple[str, ...]:
    # NUL cannot be in a PostgreSQL text, so it can stand between the values while they are escaped together.
    joined = "\x00".join(texts)
    if "\\" not in joined and "\n" not in joined and "\r" not in joined and "\t" not in joined:
        return texts
    escaped = _escape(joined).split("\x00")
    if len(escaped) != len(texts):      # a value held a NUL itself: escaped alone (PostgreSQL refuses it, as it should)
        return [_escape(text) for text in texts]
    return escaped


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")


def _scratch_table(conn, cursor, quoted_table: str, names: str, table_name: str, columns: list[str]) -> str:
    """The session's empty temporary table with these columns (created once per connection; emptied at commit
    and rollback). It is emptied by hand only when this transaction filled it already (a TRUNCATE gives the table
    a new file: it cost PostgreSQL more than the statement that creates the table if missing)."""
    scratch = f"aq_copy_{table_name}_{zlib.crc32(','.join(columns).encode()):08x}"[:63]
    statement = (f'CREATE TEMPORARY TABLE IF NOT EXISTS "{scratch}" ON COMMIT DELETE ROWS AS '
                 f"SELECT {names} FROM {quoted_table} WITH NO DATA")
    # scratch table -> id of the transaction that filled it last (an id reused by a later transaction only costs
    # an unneeded TRUNCATE; a transaction that is not the current one has ended, and its end emptied the table).
    filled = conn.info.setdefault("aq_scratch_filled", {})
    transaction = conn.get_transaction()
    if transaction is None or filled.get(scratch) == id(transaction):
        statement += f'; TRUNCATE "{scratch}"'
    cursor.execute(statement)
    if transaction is not None:
        filled[scratch] = id(transaction)
    return f'"{scratch}"'


@contextmanager
def _blocking():
    callback = extensions.get_wait_callback()
    if callback is None:
        yield
        return
    extensions.set_wait_callback(None)
    try:
        yield
    finally:
        extensions.set_wait_callback(callback)
