"""Insert-or-update many rows by key, portably (SQLite and PostgreSQL), reporting what really changed."""
from __future__ import annotations

from sqlalchemy import and_, bindparam, select, tuple_, update


def upsert(conn, table, key_columns: tuple[str, ...], rows: list[dict], chunk: int = 500) -> tuple[list[dict], list[dict]]:
    """Returns (inserted rows, updated rows); rows equal to what is stored are left alone."""
    existing: dict[tuple, dict] = {}
    keys = [tuple(r[k] for k in key_columns) for r in rows]
    key_cols = [table.c[k] for k in key_columns]
    for start in range(0, len(keys), chunk):
        part = keys[start:start + chunk]
        condition = (key_cols[0].in_([k[0] for k in part]) if len(key_cols) == 1
                     else tuple_(*key_cols).in_(part))
        for row in conn.execute(select(table).where(condition)).mappings():
            existing[tuple(row[k] for k in key_columns)] = dict(row)
    inserted, updated = [], []
    for key, row in zip(keys, rows):
        old = existing.get(key)
        if old is None:
            inserted.append(row)
        elif any(old.get(c) != v for c, v in row.items()):
            updated.append(row)
    if inserted:
        conn.execute(table.insert(), inserted)
    if updated:
        columns = [c for c in updated[0] if c not in key_columns]
        statement = (update(table)
                     .where(and_(*(table.c[k] == bindparam(f"key_{k}") for k in key_columns)))
                     .values({c: bindparam(f"new_{c}") for c in columns}))
        conn.execute(statement, [{**{f"key_{k}": r[k] for k in key_columns},
                                  **{f"new_{c}": r[c] for c in columns}} for r in updated])
    return inserted, updated
