"""services/notification/keyed_updates.py on the real PostgreSQL (UPDATE … FROM VALUES, values cast to their
columns' types, a page per statement) and on SQLite (executemany): each row gets exactly its own values, a condition
leaves the rows it does not hold alone, and the count is of the rows really updated."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import Boolean, Column, DateTime, Integer, MetaData, String, Table, Text, insert, select

from services.notification import keyed_updates
from services.notification.keyed_updates import update_by_key
from shared.db import engine_for

metadata = MetaData()
items = Table(
    "items", metadata,
    Column("key", String(32), primary_key=True),
    Column("part", Integer, primary_key=True),
    Column("status", String(16), nullable=False),
    Column("note", Text),
    Column("flag", Boolean),
    Column("at", DateTime(timezone=True)),
)
AT = datetime(2025, 2, 20, 8, 30, 15, 123456, tzinfo=timezone.utc)
AWKWARD = ["plain", 'say "hi"', "a,b", "line\nbreak", "back\\slash", "高等数学(1)", "'single'", "", None]


@pytest.fixture(params=["postgresql", "sqlite"])
def engine(request, tmp_path):
    if request.param == "sqlite":
        engine = engine_for("keyed", f"sqlite:///{tmp_path / 'k.sqlite'}")
        metadata.create_all(engine)
        yield engine
        return
    pg_url_template = request.getfixturevalue("pg_url_template")
    engine = engine_for("keyed", pg_url_template.replace("{service}", "keyed"))
    metadata.create_all(engine)
    yield engine


def utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is None:          # SQLite gives naive datetimes back (stored as UTC)
        return value and value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def stored(engine) -> dict[tuple, dict]:
    with engine.connect() as conn:
        return {(r["key"], r["part"]): dict(r) for r in conn.execute(select(items)).mappings()}


@pytest.mark.real
def test_each_row_gets_its_own_values_and_the_condition_is_kept(engine, monkeypatch):
    monkeypatch.setattr(keyed_updates, "PAGE", 4)              # several statements: the count adds them up
    rows = [{"key": f"k{i:02d}", "part": i % 2, "status": "closed" if i % 5 == 0 else "open", "note": None,
             "flag": None, "at": None} for i in range(11)]
    with engine.begin() as conn:
        conn.execute(insert(items), rows)
    given = [{"key": f"k{i:02d}", "part": i % 2, "note": AWKWARD[i % len(AWKWARD)], "flag": bool(i % 3),
              "at": AT if i % 2 else None} for i in range(11)]
    given.append({"key": "nobody", "part": 0, "note": "x", "flag": True, "at": AT})   # no such row: nothing
    with engine.begin() as conn:
        updated = update_by_key(conn, items, given, ("key", "part"), where=items.c.status == "open")
    assert updated == 8                                        # k00, k05, k10 are closed
    after = stored(engine)
    for row in given[:-1]:
        old = next(r for r in rows if r["key"] == row["key"])
        expected = old if old["status"] == "closed" else {**old, **row}
        got = after[(row["key"], row["part"])]
        assert {**got, "at": utc(got["at"])} == expected
    assert len(after) == 11


@pytest.mark.real
def test_no_rows_no_statement(engine):
    with engine.begin() as conn:
        assert update_by_key(conn, items, [], ("key", "part")) == 0
