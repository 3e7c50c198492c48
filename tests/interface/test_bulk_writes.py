"""shared/bulk.py on the real PostgreSQL: the COPY path (many rows) and the execute_values path (few) store exactly
what they were given — empty strings apart from NULLs, quotes, commas, line breaks, Chinese, floats, booleans, times —
and an upsert replaces by key. The test process runs under eventlet with psycogreen's wait callback set, as the
services do, so the COPY's lifting of the callback is exercised too."""
from __future__ import annotations

from datetime import datetime, timezone

import psycopg2
import pytest
from psycopg2 import extensions
from sqlalchemy import Boolean, Column, DateTime, Float, Integer, MetaData, String, Table, Text, select

from shared import bulk
from shared.db import engine_for

metadata = MetaData()
things = Table(
    "things", metadata,
    Column("key", String(32), primary_key=True),
    Column("part", Integer, primary_key=True),
    Column("label", Text, nullable=False),
    Column("note", Text),
    Column("weight", Float),
    Column("flag", Boolean),
    Column("at", DateTime(timezone=True)),
)

AWKWARD = ["", "plain", 'say "hi"', "a,b", "line\nbreak", "tab\there", "back\\slash", "高等数学(1)", "NULL", "\\N",
           "  spaced  ", "'single'", "carriage\rreturn", "crlf\r\n", "\\.", '"']


def make_rows(count: int, label_suffix: str = "") -> list[dict]:
    at = datetime(2025, 2, 20, 8, 30, 15, 123456, tzinfo=timezone.utc)
    return [{"key": f"k{i:05d}", "part": i % 3, "label": AWKWARD[i % len(AWKWARD)] + label_suffix,
             "note": None if i % 4 == 0 else AWKWARD[1 + (i + 5) % (len(AWKWARD) - 1)],    # never "": see below
             "weight": None if i % 5 == 0 else i / 7, "flag": None if i % 6 == 0 else bool(i % 2),
             "at": None if i % 7 == 0 else at} for i in range(count)]


@pytest.fixture
def engine(pg_url_template):
    engine = engine_for("bulk", pg_url_template.replace("{service}", "bulk"))
    metadata.create_all(engine)
    assert extensions.get_wait_callback() is not None, "the services run with psycogreen's callback: so must this"
    return engine


def stored(engine) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(things).order_by(things.c.key, things.c.part)).mappings()]


def only_copy(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("these rows should have been COPYed")
    monkeypatch.setattr(bulk, "execute_values", refuse)


@pytest.mark.real
@pytest.mark.parametrize("count", [2 * bulk.COPY_FROM_ROWS + 37, 12], ids=["copy", "execute_values"])
def test_rows_come_back_exactly_as_written(engine, count, monkeypatch):
    if count >= bulk.COPY_FROM_ROWS:
        only_copy(monkeypatch)
    rows = make_rows(count)
    with engine.begin() as conn:
        bulk.insert_rows(conn, things, rows[: count // 2])
        bulk.insert_rows(conn, things, rows[count // 2:])       # twice in one transaction
    assert stored(engine) == sorted(rows, key=lambda r: (r["key"], r["part"]))
    assert extensions.get_wait_callback() is not None, "the wait callback is back after the COPY"


@pytest.mark.real
@pytest.mark.parametrize("count", [bulk.COPY_FROM_ROWS + 37, 12], ids=["copy", "execute_values"])
def test_an_upsert_replaces_by_key_and_adds_the_rest(engine, count, monkeypatch):
    if count >= bulk.COPY_FROM_ROWS:
        only_copy(monkeypatch)
    with engine.begin() as conn:
        bulk.upsert_rows(conn, things, make_rows(count), ("key", "part"))
    changed = make_rows(count + 10, label_suffix=" (corrected)")
    with engine.begin() as conn:
        bulk.upsert_rows(conn, things, changed, ("key", "part"))
    assert stored(engine) == sorted(changed, key=lambda r: (r["key"], r["part"]))


@pytest.mark.real
def test_a_column_with_both_null_and_empty_strings_is_copied_and_stored_exactly(engine, monkeypatch):
    only_copy(monkeypatch)      # COPY's text format tells them apart (CSV, used before, could not)
    rows = make_rows(bulk.COPY_FROM_ROWS + 3)
    for i, row in enumerate(rows):
        row["note"] = [None, ""][i % 2]
    with engine.begin() as conn:
        bulk.insert_rows(conn, things, rows)
    assert [r["note"] for r in stored(engine)] == [r["note"] for r in rows]


@pytest.mark.real
def test_a_nul_character_is_refused_and_never_shifts_a_row_into_the_next_column(engine):
    """Values are escaped a column at a time with NUL between them: one holding a NUL itself must not split."""
    rows = make_rows(bulk.COPY_FROM_ROWS + 3)
    rows[5]["label"] = "nul\x00inside"                        # the column also holds line breaks, so it is escaped
    with pytest.raises(psycopg2.DataError):
        with engine.begin() as conn:
            bulk.insert_rows(conn, things, rows)
    assert stored(engine) == []


@pytest.mark.real
def test_a_failed_copy_rolls_back_with_its_transaction_and_the_session_stays_usable(engine):
    rows = make_rows(bulk.COPY_FROM_ROWS + 1)
    rows[-1]["weight"] = "heavy"                               # not a number: the COPY itself fails
    with pytest.raises(psycopg2.DataError):     # shared.bulk writes through the raw cursor
        with engine.begin() as conn:
            bulk.insert_rows(conn, things, make_rows(bulk.COPY_FROM_ROWS + 1)[:1])
            bulk.insert_rows(conn, things, rows[1:])
    assert stored(engine) == []
    assert extensions.get_wait_callback() is not None
    with engine.begin() as conn:
        bulk.insert_rows(conn, things, make_rows(bulk.COPY_FROM_ROWS))
    assert len(stored(engine)) == bulk.COPY_FROM_ROWS


@pytest.mark.real
def test_the_scratch_table_starts_empty_in_each_transaction_of_a_connection(engine, monkeypatch):
    """It is emptied by hand only when the same transaction filled it already; a commit and a rollback empty it."""
    only_copy(monkeypatch)
    rows = make_rows(4 * bulk.COPY_FROM_ROWS)
    first, second, third = (rows[i * bulk.COPY_FROM_ROWS:(i + 1) * bulk.COPY_FROM_ROWS] for i in range(3))
    with engine.connect() as conn:
        with conn.begin():
            bulk.insert_rows(conn, things, first)
        with pytest.raises(RuntimeError):
            with conn.begin():
                bulk.insert_rows(conn, things, second)
                raise RuntimeError("the handler fails after writing")
        with conn.begin():
            bulk.insert_rows(conn, things, third)
    assert stored(engine) == sorted(first + third, key=lambda r: (r["key"], r["part"]))


@pytest.mark.real
@pytest.mark.parametrize("count", [bulk.COPY_FROM_ROWS + 5, 12], ids=["copy", "execute_values"])
def test_tuples_are_written_like_dicts(engine, count, monkeypatch):
    if count >= bulk.COPY_FROM_ROWS:
        only_copy(monkeypatch)
    rows = make_rows(count)
    columns = list(rows[0])
    with engine.begin() as conn:
        bulk.insert_tuples(conn, things, columns, [tuple(r[c] for c in columns) for r in rows])
    changed = make_rows(count + 9, label_suffix=" (corrected)")
    with engine.begin() as conn:
        bulk.upsert_tuples(conn, things, columns, [tuple(r[c] for c in columns) for r in changed], ("key", "part"))
    assert stored(engine) == sorted(changed, key=lambda r: (r["key"], r["part"]))
