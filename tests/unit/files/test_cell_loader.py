"""load_rows' column-wise loader gives exactly what marshmallow gives: the same data for good rows, and for a chunk
with a bad row the same problems (that chunk goes through marshmallow)."""
from __future__ import annotations

import random

import pytest

from services.grades.domain import rows as grade_rows
from services.grades.domain.rows import grade_table
from shared.files import validation

HEADER = "学号,姓名,学年学期,课程代码,课程名称,学分,课程性质,考试性质,成绩,任课教师,开课学院"
GOOD = ["210101001", "杨建明", "2023-2024-1", "MATH01", "高等数学(1)", "4.0", "必修", "正常考试", "70", "杨英", "数学学院"]
BAD_CELLS = {2: ["2023-2025-1", "第一学期", ""], 5: ["四", "-1", ""], 6: ["必须"], 7: ["期末"], 8: ["一百", "101"],
             0: ["", "2.10101E+08"], 3: [""]}


def grades_file(count: int, bad_every: int | None, seed: int = 3) -> bytes:
    rng = random.Random(seed)
    lines = [HEADER]
    for i in range(count):
        cells = list(GOOD)
        cells[0] = f"21{i:07d}"
        cells[2] = rng.choice(["2023-2024-1", "2023-2024学年第2学期", "202401", "２０２３-２０２４-１"])
        cells[5] = rng.choice(["4.0", "2", "１.5", " 3 "])
        cells[6] = rng.choice(["必修", "限选", "公选", "选修课"])
        cells[7] = rng.choice(["正常考试", "补考", "重修", "缓考"])
        cells[8] = rng.choice(["70", "59.5", "良好", "缺考", "", "作弊", "100"])
        cells[9] = rng.choice(["杨英", "", "Li Lei"])
        if bad_every and i % bad_every == bad_every - 1:
            column = rng.choice(list(BAD_CELLS))
            cells[column] = rng.choice(BAD_CELLS[column])
        lines.append(",".join(cells))
    return ("\n".join(lines) + "\n").encode("utf-8")


def loaded(data: bytes, fast: bool, monkeypatch) -> list:
    if not fast:
        monkeypatch.setattr(validation, "_column_loader", lambda schema, keys: None)
    result = list(validation.load_rows(grade_table("g.csv", data), grade_rows._SCHEMA, chunk_rows=50))
    monkeypatch.undo()
    return result


@pytest.mark.parametrize("bad_every", [None, 7, 400], ids=["all good", "many bad", "one bad chunk"])
def test_the_fast_loader_and_marshmallow_agree_row_by_row(bad_every, monkeypatch):
    data = grades_file(500, bad_every)
    fast, slow = loaded(data, True, monkeypatch), loaded(data, False, monkeypatch)
    assert [(r.row, r.data, [p.to_dict() for p in r.problems]) for r in fast] == \
           [(r.row, r.data, [p.to_dict() for p in r.problems]) for r in slow]
    assert sum(1 for r in fast if not r.ok) == (500 // bad_every if bad_every else 0)


def test_the_fast_loader_is_used_for_cell_schemas_only():
    from marshmallow import Schema, fields, validates_schema

    keys = grade_rows.GRADE_COLUMNS.keys
    assert validation._column_loader(grade_rows._SCHEMA, keys) is not None

    class Plain(Schema):
        name = fields.String()

    class Hooked(grade_rows.GradeRowSchema):
        @validates_schema
        def whole_row(self, data, **kwargs):
            pass

    assert validation._column_loader(Plain(), ("name",)) is None
    assert validation._column_loader(Hooked(), keys) is None
    # A table without a column a field reads, or with one marshmallow refuses as unknown: marshmallow says so.
    assert validation._column_loader(grade_rows._SCHEMA, keys[:-1]) is None
    assert validation._column_loader(grade_rows._SCHEMA, keys + ("extra",)) is None


def test_a_column_forgets_what_it_read_past_its_memory_and_still_agrees(monkeypatch):
    monkeypatch.setattr(validation, "COLUMN_MEMORY", 7)
    data = grades_file(300, 11)
    fast = list(validation.load_rows(grade_table("g.csv", data), grade_rows._SCHEMA, chunk_rows=50))
    monkeypatch.setattr(validation, "_column_loader", lambda schema, keys: None)
    slow = list(validation.load_rows(grade_table("g.csv", data), grade_rows._SCHEMA, chunk_rows=50))
    assert [(r.row, r.data, [p.to_dict() for p in r.problems]) for r in fast] == \
           [(r.row, r.data, [p.to_dict() for p in r.problems]) for r in slow]


def test_a_value_a_cell_makes_afresh_is_not_shared_between_rows():
    from marshmallow import RAISE, Schema

    from shared.files.columns import Column, ColumnSpec
    from shared.files.fields import Cell
    from shared.files.formats import read_table

    class Tags(Schema):
        class Meta:
            unknown = RAISE
        name = Cell(blank=None)
        tags = Cell(lambda text: text.split(";"), blank=list)

    spec = ColumnSpec(Column("name", "姓名", "name"), Column("tags", "标签", "tags"))
    table = read_table("t.csv", "姓名,标签\n甲,\n乙,\n丙,a;b\n丁,a;b\n".encode(), columns=spec)
    [chunk] = validation.load_chunks(table, Tags())
    assert chunk.values == {"name": ["甲", "乙", "丙", "丁"], "tags": [[], [], ["a", "b"], ["a", "b"]]}
    first, second, third, fourth = chunk.values["tags"]
    assert first is not second and third is not fourth
