"""Running a marshmallow schema over a streamed :class:`Table`, and settling duplicate rows.

One schema instance validates many rows per call (``many=True`` on chunks), which is what keeps 100,000 rows in the
range of seconds; the per-row errors marshmallow returns are turned into :class:`Problem` s naming the row, the
column as the file titles it, and the value as written.
"""
from __future__ import annotations

from itertools import islice
from typing import Callable, Hashable, Iterable, Iterator, NamedTuple

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, missing

from shared.files.columns import ColumnSpec
from shared.files.formats import Table
from shared.files.report import Problem, Reason, mask, reason_of

CHUNK_ROWS = 2000


class LoadedRow(NamedTuple):
    file: str
    row: int
    cells: dict[str, str]        # as written
    data: dict                   # the fields that validated (all of them when ``ok``)
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return not self.problems


def load_rows(table: Table, schema: Schema, *, masked: Iterable[str] = (),
              chunk_rows: int = CHUNK_ROWS) -> Iterator[LoadedRow]:
    """Validate every row of ``table``; rows come back in file order with their problems (``masked`` columns
    hold personal data: their values are shown only in part)."""
    masked = frozenset(masked)
    order = {key: i for i, key in enumerate(table.spec.keys)}
    rows = iter(table)
    cells = _cells_loader(schema)
    while chunk := list(islice(rows, chunk_rows)):
        loaded, errors = cells(chunk) if cells else None, {}
        if loaded is None:
            try:
                loaded, errors = schema.load([r.cells for r in chunk], many=True), {}
            except ValidationError as error:
                loaded, errors = error.valid_data, error.messages
        for i, raw in enumerate(chunk):
            problems = []
            for key, messages in sorted(errors.get(i, {}).items(), key=lambda kv: order.get(kv[0], 99)):
                value = raw.cells.get(key, "")
                shown = mask(value) if key in masked and value else value
                for message in messages if isinstance(messages, list) else [messages]:
                    problems.append(Problem.of(table.file, raw.row_number, key, shown, reason_of(message),
                                               table.title(key) if key in order else None))
            yield LoadedRow(table.file, raw.row_number, raw.cells, loaded[i], problems)


def _cells_loader(schema: Schema) -> Callable[[list], list[dict] | None] | None:
    """What ``schema.load(many=True)`` gives for a chunk of rows, computed without marshmallow's per-field machinery
    (two thirds of the time of a 300,000-row file), or None for a chunk with any problem: that chunk then goes
    through marshmallow, which names every problem. Only for schemas of Cell fields without hooks, where
    marshmallow's result is exactly each field's ``deserialize`` of its cell; None for other schemas."""
    from shared.files.fields import Cell
    load_fields = list(schema.load_fields.items())
    if any(schema._hooks.values()) or schema.unknown not in (RAISE, EXCLUDE) or not all(
            isinstance(field, Cell) and field.data_key is None for _, field in load_fields):
        return None
    allowed = frozenset(name for name, _ in load_fields)
    strict = schema.unknown == RAISE

    def load(chunk) -> list[dict] | None:
        loaded = []
        try:
            for row in chunk:
                cells = row.cells
                if strict and not allowed.issuperset(cells):
                    return None
                loaded.append({name: field.deserialize(cells.get(name, missing)) for name, field in load_fields})
        except ValidationError:
            return None
        return loaded

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
