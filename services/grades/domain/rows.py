"""A grades file (files.md "Grades") -> canonical grade records (contracts GradeRecordSchema), or FileRejected.

Names are checked against the roster, which the service asks once it knows which students the file names:

    problems = check_grade_file(lambda: grade_table(filename, data), names_of, spool.extend)
    # names_of(ids) -> {student_id: name}: the RPC roster.lookup_students, asked after the first pass

Every row is checked and every problem reported; one bad row rejects the file (nothing is stored).
"""
from __future__ import annotations

from typing import Callable, Iterable, Mapping

from marshmallow import RAISE, Schema

from contracts.events import GradeRecordSchema
from services.grades.domain.normalise import (
    parse_course_type, parse_credits, parse_exam_type, parse_score, parse_semester, same_name,
)
from shared.files.columns import Column, ColumnSpec
from shared.files.fields import Cell, clean, optional_text, parse_id, required_text
from shared.files.columns import HeaderMatch
from shared.files.formats import MAX_BYTES, SheetRow, Table, read_table
from shared.files.xlsx_format import cell_text
from shared.files.report import FileRejected, Problem, Reason
from shared.files.validation import CHUNK_ROWS, LoadedRow, load_chunks, load_rows, settle_duplicates

GRADE_COLUMNS = ColumnSpec(
    Column("student_id", "学号", "student_id"),
    Column("name", "姓名", "name"),
    Column("semester", "学年学期", "semester"),
    Column("course_code", "课程代码", "course_code", aliases=("课程号", "课程编号")),
    Column("course_name", "课程名称", "course_name"),
    Column("credits", "学分", "credits"),
    Column("course_type", "课程性质", "course_type"),
    Column("exam_type", "考试性质", "exam_type"),
    Column("score", "成绩", "score"),
    # May be empty (files.md), so a file without these columns at all is accepted too.
    Column("teacher", "任课教师", "teacher", required=False),
    Column("offering_college", "开课学院", "offering_college", required=False),
)
RECORD_FIELDS = tuple(GradeRecordSchema().fields)
NATURAL_KEY = ("student_id", "semester", "course_code", "exam_type")

class GradeRowSchema(Schema):
    class Meta:
        unknown = RAISE

    student_id = Cell(parse_id, blank=None)
    name = required_text()
    semester = Cell(parse_semester, blank=None)
    course_code = required_text()
    course_name = required_text()
    credits = Cell(parse_credits, blank=None)
    course_type = Cell(parse_course_type, blank=None)
    exam_type = Cell(parse_exam_type, blank=None)
    score = Cell(parse_score, blank="")          # empty = no result yet (policy.md §1)
    teacher = optional_text()
    offering_college = optional_text()


_SCHEMA = GradeRowSchema()   # one instance for every file: building a Schema is the expensive part


def grade_table(filename: str, data: bytes, *, sheet: str | None = None, max_bytes: int = MAX_BYTES) -> Table:
    """The grades table of a file (the first sheet of a workbook, or ``sheet``). Raises FileRejected for whole-file
    problems (empty, unreadable, too large, no header, missing columns)."""
    return read_table(filename, data, columns=GRADE_COLUMNS, sheet=sheet, max_bytes=max_bytes)


def released_table(batch_id: str, records: list[dict]) -> Table:
    """A batch released by the grade system as a table, so it is validated exactly like a file: the record's
    position in the batch (1-based) stands for the row number, the English column names for the titles."""
    keys = GRADE_COLUMNS.keys
    header = HeaderMatch(0, {key: i for i, key in enumerate(keys)}, {key: key for key in keys})
    rows = (SheetRow(number, [cell_text(record.get(key)) for key in keys])
            for number, record in enumerate(records, 1))
    return Table(f"batch {batch_id}", GRADE_COLUMNS, header, len(keys), rows)


def student_ids_in(filename: str, data: bytes, *, sheet: str | None = None, max_bytes: int = MAX_BYTES) -> set[str]:
    """The student ids a grades file names (as validation will read them), for the roster lookup. Raises
    FileRejected for whole-file problems (empty, unreadable, no header, missing columns)."""
    return ids_in_table(grade_table(filename, data, sheet=sheet, max_bytes=max_bytes))


def ids_in_table(table: Table) -> set[str]:
    texts: set[str] = set()
    for chunk in table.column_chunks(CHUNK_ROWS):
        texts.update(chunk.columns["student_id"])
    return {sid for text in texts if (sid := clean(text))}


def check_grade_rows(open_table: Callable[[], Table], roster_names: Mapping[str, str],
                     accept: Callable[[dict], None]) -> list[Problem]:
    """:func:`check_grade_file` with the roster's names at hand, handing each good record to ``accept`` as a
    GradeRecordSchema dict."""
    def accept_records(records: list[tuple]) -> None:
        for record in records:
            accept(dict(zip(RECORD_FIELDS, record)))
    return check_grade_file(open_table, lambda ids: roster_names, accept_records)


def check_grade_file(open_table: Callable[[], Table], names_of: Callable[[list[str]], Mapping[str, str]],
                     accept: Callable[[list[tuple]], None]) -> list[Problem]:
    """Validate a grades table, handing its good canonical records to ``accept`` a chunk at a time, as tuples in
    RECORD_FIELDS order (a row identical to an earlier one is handed over once), and return every problem found;
    when there are problems the file is rejected, and whatever ``accept`` was handed is to be dropped. Nothing is
    kept per row but two hashes, so a file of 300,000 rows is checked in bounded memory; ``accept`` may spool.

    ``names_of(student ids)`` answers the roster's name of each student the file names (it knows). It is asked
    once, after one pass that validated every cell column by column, handed the records over and noted each
    (student id, name) the file pairs: a good file is read once. A file with any problem is read again to name
    every problem (:func:`check_grade_records`)."""
    table = open_table()
    texts: set[str] = set()                         # the student id cells as written, for the roster
    pairs: set[tuple[str, str]] = set()
    records = _FirstSeen()
    valid = True
    for chunk in load_chunks(table, _SCHEMA):
        texts.update(chunk.columns["student_id"])
        if chunk.values is None:
            valid = False                           # rejected: only the ids are still needed
        if valid:
            pairs.update(zip(chunk.values["student_id"], chunk.values["name"]))
            accept(records.first_seen(chunk.values))
    roster_names = names_of(sorted({sid for text in texts if (sid := clean(text))}))
    if valid and not table.problems and not records.disagreeing and _names_agree(pairs, roster_names):
        return []
    return check_grade_records(open_table, roster_names, lambda rejected: None)


def check_grade_records(open_table: Callable[[], Table], roster_names: Mapping[str, str],
                        accept: Callable[[list[tuple]], None]) -> list[Problem]:
    """Validate a grades table naming every problem of every row, with the roster's names at hand, handing the good
    records of each chunk to ``accept`` as :func:`check_grade_file` does.

    A chunk whose every row validated and names its students as the roster does is taken column by column; any
    other chunk row by row. ``open_table`` opens the table afresh: only when two rows share a key but disagree is
    the table read a second time, to name every row of such a key and the columns that differ (files.md "Bad
    input")."""
    problems: list[Problem] = []
    records = _FirstSeen()
    table = open_table()
    for chunk in load_chunks(table, _SCHEMA):
        values = chunk.values
        if values is not None and _names_agree(set(zip(values["student_id"], values["name"])), roster_names):
            accept(records.first_seen(values))
            continue
        good = []
        for row in chunk.rows():
            problems.extend(row.problems)
            mismatch = _roster_problem(row, roster_names, table.title)
            if mismatch:
                problems.append(mismatch)
            elif row.ok:
                good.append(tuple(row.data[field] for field in RECORD_FIELDS))
        accept(records.fresh((hash(_key_of(record)) for record in good), good))
    problems.extend(table.problems)
    if records.disagreeing:
        problems.extend(_disagreements(open_table(), records.disagreeing))
    return problems


class _FirstSeen:
    """The first of rows sharing a natural key; keys whose rows disagree. Only hashes are kept (bounded memory); the
    file is rejected when any key disagrees, and the rows are then named in a second pass (_disagreements)."""

    def __init__(self):
        self.seen: dict[int, int] = {}             # hash of the natural key -> hash of the record's values
        self.disagreeing: set[int] = set()

    def first_seen(self, values: dict[str, list]) -> list[tuple]:
        """The records of a chunk of valid rows (field -> values) not seen before."""
        records = list(zip(*(values[field] for field in RECORD_FIELDS)))
        return self.fresh(map(hash, zip(*(values[field] for field in NATURAL_KEY))), records)

    def fresh(self, keys: Iterable[int], records: list[tuple]) -> list[tuple]:
        seen, fresh = self.seen, []
        for key, record in zip(keys, records):
            before = seen.get(key)
            if before is None:
                seen[key] = hash(record)
                fresh.append(record)
            elif before != hash(record):
                self.disagreeing.add(key)
        return fresh


def _names_agree(pairs: Iterable[tuple[str, str]], roster_names: Mapping[str, str]) -> bool:
    """Every (student id, name) is in the roster under that name (each distinct pair checked once)."""
    return all(sid in roster_names and same_name(name, roster_names[sid]) for sid, name in pairs)


def _disagreements(table: Table, keys: set[int]) -> list[Problem]:
    rows = [row for row in load_rows(table, _SCHEMA) if row.ok and hash(_natural_key(row.data)) in keys]
    return settle_duplicates(rows, _natural_key, GRADE_COLUMNS, NATURAL_KEY, RECORD_FIELDS)[1]


_KEY_AT = tuple(RECORD_FIELDS.index(field) for field in NATURAL_KEY)


def _key_of(record: tuple) -> tuple:
    return tuple(record[i] for i in _KEY_AT)


def validate_grade_rows(filename: str, data: bytes, roster_names: Mapping[str, str], *,
                        sheet: str | None = None, max_bytes: int = MAX_BYTES) -> list[dict]:
    """Canonical GradeRecordSchema dicts in file order (identical duplicate rows once), or FileRejected listing
    every problem. ``roster_names``: student_id -> name for (at least) the students the file names."""
    records: list[dict] = []
    problems = check_grade_rows(lambda: grade_table(filename, data, sheet=sheet, max_bytes=max_bytes),
                                roster_names, records.append)
    if problems:
        raise FileRejected(problems)
    return records


def _natural_key(data: dict) -> tuple:
    return (data["student_id"], data["semester"], data["course_code"], data["exam_type"])


def _roster_problem(row: LoadedRow, roster_names: Mapping[str, str], title) -> Problem | None:
    sid = row.data.get("student_id")
    if sid is None:
        return None                               # already reported as a bad id
    if sid not in roster_names:
        return Problem.of(row.file, row.row, "student_id", row.cells["student_id"], Reason(
            "名册中没有这个学号（请核对学号，或先导入该学生的名册）",
            "no student with this id in the roster (check the id, or import the student into the roster first)"),
            title("student_id"))
    name = row.data.get("name")
    expected = roster_names[sid]
    if name is not None and not same_name(name, expected):
        return Problem.of(row.file, row.row, "name", row.cells["name"], Reason(
            f"姓名与名册不符：名册中学号 {sid} 的学生是“{expected}”",
            f"the name does not match the roster: student {sid} is '{expected}' there"), title("name"))
    return None
