"""Running a marshmallow schema over a streamed :class:`Table`, and settling duplicate rows.

Rows are validated a chunk at a time. A schema made of :class:`Cell` fields (no hooks) is run COLUMN by column:
each distinct text of a column is deserialized once per table and looked up for every other cell holding it (a
file of 100,000 rows has a handful of semesters, scores and course types, one student id per ~35 rows), so a
chunk of good rows costs a dictionary lookup per cell. A chunk with any problem, and every other schema, goes
through marshmallow (``many=True``), whose per-row errors are turned into :class:`Problem` s naming the row, the
column as the file titles it, and the value as written.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Callable, Hashable, Iterable, Iterator, NamedTuple

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError

from shared.files.columns import ColumnSpec
from shared.files.formats import ColumnChunk, Table
from shared.files.report import Problem, Reason, mask, reason_of

CHUNK_ROWS = 2000
# Distinct texts remembered per column: a column of (nearly) all-different cells must not keep the whole file.
COLUMN_MEMORY = 50_000
# Values shared between the rows holding the same text must be immutable (a Cell may make a fresh blank value).
_SHAREABLE = (str, int, float, bool, type(None), Decimal, date)


class LoadedRow(NamedTuple):
    file: str
    row: int
    cells: dict[str, str]        # as written
    data: dict                   # the fields that validated (all of them when ``ok``)
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return not self.problems


class LoadedChunk:
    """Consecutive rows of a table. ``values`` (field name -> one value per row) when every row validated, else
    None; ``rows()`` gives them one by one as :class:`LoadedRow` s (with their problems) either way."""

    def __init__(self, table: Table, schema: Schema, chunk: ColumnChunk, values: dict[str, list] | None,
                 masked: frozenset[str]):
        self.table, self.schema, self.chunk, self.values, self.masked = table, schema, chunk, values, masked
        self.numbers = chunk.numbers
        self.columns = chunk.columns             # the cells as written, column by column

    def rows(self) -> list[LoadedRow]:
        table, numbers = self.table, self.numbers
        keys = table.cell_keys
        cells = [self.chunk.cells(i, keys) for i in range(len(numbers))]
        if self.values is not None:
            names = list(self.values)
            data = [dict(zip(names, row)) for row in zip(*self.values.values())]
            return [LoadedRow(table.file, n, c, d, []) for n, c, d in zip(numbers, cells, data)]
        try:
            loaded, errors = self.schema.load(cells, many=True), {}
        except ValidationError as error:
            loaded, errors = error.valid_data, error.messages
        order = {key: i for i, key in enumerate(table.spec.keys)}
        rows = []
        for i, row_cells in enumerate(cells):
            problems = []
            for key, messages in sorted(errors.get(i, {}).items(), key=lambda kv: order.get(kv[0], 99)):
                value = row_cells.get(key, "")
                shown = mask(value) if key in self.masked and value else value
                for message in messages if isinstance(messages, list) else [messages]:
                    problems.append(Problem.of(table.file, numbers[i], key, shown, reason_of(message),
                                               table.title(key) if key in order else None))
            rows.append(LoadedRow(table.file, numbers[i], row_cells, loaded[i], problems))
        return rows


def load_chunks(table: Table, schema: Schema, *, masked: Iterable[str] = (),
                chunk_rows: int = CHUNK_ROWS) -> Iterator[LoadedChunk]:
    """Validate every row of ``table``, ``chunk_rows`` at a time, in file order (``masked`` columns hold personal
    data: their values are shown only in part in problems)."""
    masked = frozenset(masked)
    columns = _column_loader(schema, table.cell_keys)
    for chunk in table.column_chunks(chunk_rows):
        yield LoadedChunk(table, schema, chunk, columns(chunk) if columns else None, masked)


def load_rows(table: Table, schema: Schema, *, masked: Iterable[str] = (),
              chunk_rows: int = CHUNK_ROWS) -> Iterator[LoadedRow]:
    """Validate every row of ``table``; rows come back in file order with their problems."""
    for chunk in load_chunks(table, schema, masked=masked, chunk_rows=chunk_rows):
        yield from chunk.rows()


class _Parsed(dict):
    """A column's cell text -> its field's value, each distinct text deserialized once; ``refusals`` counts the
    cells the field refused (never remembered, so every refused cell is counted)."""

    def __init__(self, field):
        super().__init__()
        self.field = field
        self.refusals = 0

    def __missing__(self, text):
        try:
            value = self.field.deserialize(text)
        except ValidationError:
            self.refusals += 1
            return None
        if value.__class__ in _SHAREABLE:
            if len(self) >= COLUMN_MEMORY:
                self.clear()
            self[text] = value
        return value


def _column_loader(schema: Schema, keys: tuple[str, ...]) -> Callable[[ColumnChunk], dict[str, list] | None] | None:
    """What ``schema.load(many=True)`` gives for a chunk, as one list of values per field, computed column by
    column without marshmallow's per-row machinery; None for a chunk with any problem (it then goes through
    marshmallow, which names every problem). Only for schemas of Cell fields without hooks, where marshmallow's
    result is exactly each field's ``deserialize`` of its cell, and only when the table has a cell for every
    field and none marshmallow would refuse as unknown; None otherwise."""
    from shared.files.fields import Cell
    load_fields = list(schema.load_fields.items())
    if any(schema._hooks.values()) or schema.unknown not in (RAISE, EXCLUDE) or not all(
            isinstance(field, Cell) and field.data_key is None and field.attribute is None
            for _, field in load_fields):
        return None
    names = [name for name, _ in load_fields]
    if not set(names).issubset(keys) or (schema.unknown == RAISE and not set(keys).issubset(names)):
        return None
    parsed = [(name, _Parsed(field)) for name, field in load_fields]

    def load(chunk: ColumnChunk) -> dict[str, list] | None:
        columns = chunk.columns
        values = {}
        for name, column in parsed:
            refusals = column.refusals
            values[name] = list(map(column.__getitem__, columns[name]))
            if column.refusals != refusals:
                return None
        return values

    return load


def _rows_text(item: LoadedRow, others: list[LoadedRow]) -> tuple[str, str]:
    """"第 4、5 行" / "rows 4, 5", with the file named for rows of another file."""
    by_file: dict[str, list[int]] = {}
    for other in others:
        by_file.setdefault(other.file, []).append(other.row)
    zh, en = [], []
    for file, numbers in by_file.items():
        prefix = "" if file == item.file else f"{file} "
        zh.append(f"{prefix}第 {'、'.join(map(str, numbers))} 行")
        en.append(f"{prefix}row{'s' if len(numbers) > 1 else ''} {', '.join(map(str, numbers))}")
    return "，".join(zh), "; ".join(en)


def settle_duplicates(rows: Iterable[LoadedRow], key: Callable[[dict], Hashable], spec: ColumnSpec,
                      key_columns: tuple[str, ...], compare: tuple[str, ...]) -> tuple[list[LoadedRow], list[Problem]]:
    """Rows sharing a natural key: identical ones (on ``compare``, canonical values) are kept once; if they
    disagree, EVERY row of the key is a bad row, naming the other rows and the columns that differ."""
    groups: dict[Hashable, list[LoadedRow]] = {}
    for item in rows:
        groups.setdefault(key(item.data), []).append(item)
    kept: list[LoadedRow] = []
    problems: list[Problem] = []
    key_zh = "、".join(spec.by_key[c].zh for c in key_columns)
    key_en = ", ".join(spec.by_key[c].en for c in key_columns)
    for group in groups.values():
        first = group[0]
        if all(_same(first.data, other.data, compare) for other in group[1:]):
            kept.append(first)
            continue
        for item in group:
            others = [o for o in group if o is not item]
            differ = [c for c in compare if any(o.data.get(c) != item.data.get(c) for o in others)]
            rows_zh, rows_en = _rows_text(item, others)
            cols_zh = "、".join(spec.by_key[c].zh for c in differ)
            cols_en = ", ".join(spec.by_key[c].en for c in differ)
            column = differ[0]
            problems.append(Problem.of(item.file, item.row, column, item.cells.get(column, ""), Reason(
                f"与{rows_zh}的{key_zh}相同，但{cols_zh}不同：同一条记录只能出现一次，请删除错误的那一行",
                f"same {key_en} as {rows_en} but a different {cols_en}: a record may appear only once; "
                f"delete the wrong row"), header=spec.by_key[column].zh))
    return kept, problems


def _same(a: dict, b: dict, compare: tuple[str, ...]) -> bool:
    return all(a.get(c) == b.get(c) for c in compare)
