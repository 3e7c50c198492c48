"""Roster files (files.md "Roster") -> a validated :class:`RosterBatch`, or FileRejected listing every problem.

Each file (or each sheet of a workbook) is recognised as classes, students or staff by its header. Files imported
together are checked together: a student's class must exist (in these files or among ``known_classes``), a class's
head teacher must be staff (in these files or among ``known_staff``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from marshmallow import RAISE, Schema

from services.roster.domain.normalise import parse_cohort, parse_role, parse_scope, parse_status
from shared.files.columns import Column, ColumnSpec
from shared.files.fields import Cell, clean, optional_text, parse_email, parse_id, parse_mobile, required_text
from shared.files.formats import MAX_BYTES, read_tables
from shared.files.report import FileRejected, Problem, Reason
from shared.files.validation import LoadedRow, load_rows, settle_duplicates

CLASS_COLUMNS = ColumnSpec(
    Column("class_name", "班级", "class_name"),
    Column("major", "专业", "major"),
    Column("cohort", "年级", "cohort"),
    Column("head_teacher_id", "班主任工号", "head_teacher_id"),
)
STUDENT_COLUMNS = ColumnSpec(
    Column("student_id", "学号", "student_id"),
    Column("name", "姓名", "name"),
    Column("class_name", "班级", "class_name"),
    Column("email", "学生邮箱", "email", required=False),
    Column("phone", "学生手机", "phone", required=False),
    Column("guardian_name", "家长姓名", "guardian_name", required=False),
    Column("guardian_relation", "家长关系", "guardian_relation", required=False),
    Column("guardian_phone", "家长手机", "guardian_phone", required=False),
    Column("guardian_email", "家长邮箱", "guardian_email", required=False),
    Column("status", "学籍状态", "status", required=False),
)
STAFF_COLUMNS = ColumnSpec(
    Column("staff_id", "工号", "staff_id"),
    Column("name", "姓名", "name"),
    Column("role", "角色", "role"),
    Column("scope", "负责范围", "scope", required=False),
    Column("email", "邮箱", "email", required=False),
    Column("phone", "手机", "phone", required=False),
)
KINDS = {"classes": CLASS_COLUMNS, "students": STUDENT_COLUMNS, "staff": STAFF_COLUMNS}
CONTACTS = ("email", "phone", "guardian_phone", "guardian_email")   # personal data: masked in reports


class ClassRowSchema(Schema):
    class Meta:
        unknown = RAISE

    class_name = required_text()
    major = required_text()
    cohort = Cell(parse_cohort, blank=None)
    head_teacher_id = Cell(parse_id, blank=None)


class StudentRowSchema(Schema):
    class Meta:
        unknown = RAISE

    student_id = Cell(parse_id, blank=None)
    name = required_text()
    class_name = required_text()
    email = Cell(parse_email)
    phone = Cell(parse_mobile)
    guardian_name = optional_text()
    guardian_relation = optional_text()
    guardian_phone = Cell(parse_mobile)
    guardian_email = Cell(parse_email)
    status = Cell(parse_status, blank="enrolled")   # a student listed without a status is taken to be studying


class StaffRowSchema(Schema):
    class Meta:
        unknown = RAISE

    staff_id = Cell(parse_id, blank=None)
    name = required_text()
    role = Cell(parse_role, blank=None)
    scope = Cell(parse_scope, blank=list)
    email = Cell(parse_email)
    phone = Cell(parse_mobile)


_SCHEMAS = {"classes": ClassRowSchema(), "students": StudentRowSchema(), "staff": StaffRowSchema()}
_KEYS = {"classes": ("class_name",), "students": ("student_id",), "staff": ("staff_id", "role")}


@dataclass
class RosterBatch:
    classes: list[dict] = field(default_factory=list)
    students: list[dict] = field(default_factory=list)
    staff: list[dict] = field(default_factory=list)
    sources: list[tuple[str, str, int]] = field(default_factory=list)   # (file, kind, valid rows)


def validate_roster_files(files: Iterable[tuple[str, bytes]], known_classes: Iterable[str] = (),
                          known_staff: Iterable[str] = (), *, max_bytes: int = MAX_BYTES) -> RosterBatch:
    problems: list[Problem] = []
    rows: dict[str, list[LoadedRow]] = {kind: [] for kind in KINDS}
    sources: list[tuple[str, str]] = []
    files = list(files)
    if not files:
        raise FileRejected([Problem.of("", None, None, None, Reason("没有收到任何文件", "no files were given"))])
    for filename, data in files:
        try:
            tables = read_tables(filename, data, KINDS, max_bytes=max_bytes)
        except FileRejected as rejected:
            problems.extend(rejected.problems)
            continue
        for kind, table in tables:
            sources.append((table.file, kind))
            for row in load_rows(table, _SCHEMAS[kind], masked=CONTACTS):
                problems.extend(row.problems)
                rows[kind].append(row)
            problems.extend(table.problems)

    problems += _counselor_scopes(rows["staff"])
    problems += _staff_names_agree(rows["staff"])
    problems += _references(rows["students"], "class_name", _present(rows["classes"], "class_name", known_classes),
                            Reason("班级“{v}”不存在：既不在本次导入的班级文件中，也不在已有名册中",
                                   "class '{v}' does not exist: it is neither in the class file of this import "
                                   "nor in the roster"))
    problems += _references(rows["classes"], "head_teacher_id", _present(rows["staff"], "staff_id", known_staff),
                            Reason("班主任工号“{v}”不是教职工：既不在本次导入的教职工文件中，也不在已有名册中",
                                   "head teacher id '{v}' is not a member of staff: neither in the staff file of "
                                   "this import nor in the roster"))
    batch = RosterBatch()
    for kind in KINDS:
        good = [r for r in rows[kind] if r.ok]
        kept, duplicates = settle_duplicates(good, _key(kind), KINDS[kind], _KEYS[kind], tuple(_SCHEMAS[kind].fields))
        problems.extend(duplicates)
        getattr(batch, kind).extend(dict(r.data) for r in kept)
    if problems:
        raise FileRejected(problems)
    batch.sources = [(file, kind, sum(1 for r in rows[kind] if r.file == file)) for file, kind in sources]
    return batch


def _key(kind: str):
    names = _KEYS[kind]
    return lambda data: tuple(data[n] for n in names)


def _present(rows: list[LoadedRow], column: str, known: Iterable[str]) -> set[str]:
    # Rows that are bad for another reason still name the class / staff member: do not add a second complaint.
    return {r.data[column] for r in rows if column in r.data} | {clean(k) for k in known}


def _references(rows: list[LoadedRow], column: str, present: set[str], reason: Reason) -> list[Problem]:
    problems = []
    for row in rows:
        value = row.data.get(column)
        if value is not None and value not in present:
            spec = KINDS["students"] if column == "class_name" else KINDS["classes"]
            problems.append(Problem.of(row.file, row.row, column, row.cells[column],
                                       Reason(reason.zh.format(v=value), reason.en.format(v=value)),
                                       spec.by_key[column].zh))
    return problems


def _counselor_scopes(staff: list[LoadedRow]) -> list[Problem]:
    """A counselor's scope is cohorts (files.md): the services route cohort lists by it, so a typo must not pass."""
    problems = []
    for row in staff:
        if row.data.get("role") != "counselor":
            continue
        bad = [item for item in row.data.get("scope", []) if not (item.isdigit() and len(item) == 4)]
        if bad:
            problems.append(Problem.of(row.file, row.row, "scope", row.cells["scope"], Reason(
                f"辅导员的负责范围应为年级（入学年份，如 2022），“{'、'.join(bad)}”不是年级",
                f"a counselor's scope is cohorts (entry years such as 2022); '{', '.join(bad)}' is not"), "负责范围"))
    return problems


def _staff_names_agree(staff: list[LoadedRow]) -> list[Problem]:
    """One person may hold several roles (one row each), but a staff id names one person."""
    names: dict[str, set[str]] = {}
    for row in staff:
        if "staff_id" in row.data and "name" in row.data:
            names.setdefault(row.data["staff_id"], set()).add(row.data["name"])
    problems = []
    for row in staff:
        sid = row.data.get("staff_id")
        if sid in names and len(names[sid]) > 1:
            others = "、".join(sorted(names[sid] - {row.data["name"]}))
            problems.append(Problem.of(row.file, row.row, "name", row.cells["name"], Reason(
                f"工号 {sid} 在其他行的姓名是“{others}”：同一工号只能是同一个人",
                f"staff id {sid} has the name '{others}' on other rows: one staff id is one person"), "姓名"))
    return problems
