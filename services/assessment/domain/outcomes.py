"""An outcomes file (files.md "Outcomes") -> canonical outcome records, or FileRejected listing every bad row.

Columns: 学号 student_id, 类别 kind, 日期 date, 值 value, 级别 level. One row is one outcome:

| kind (canonical) | 类别 as written               | value                                   | date      | level      |
|------------------|-------------------------------|-----------------------------------------|-----------|------------|
| cet4 / cet6      | CET4, CET-4, 四级, 大学英语四级… | total score 0–710 (pass ≥ 425)           | exam date | ignored    |
| graduation       | 毕业证, 毕业证书                 | ignored (a certificate number may stand) | award     | ignored    |
| degree           | 学位证, 学位证书                 | ignored                                 | award     | ignored    |
| destination      | 去向, 毕业去向                   | 就业 升学 出国 创业 待就业                  | optional  | ignored    |
| award            | 获奖, 奖项                      | the award's name                        | award     | 校级 省级 国家级 国际级 (院级 is kept, never counted) |
| enrolment        | 招生                           | "major:planned:enrolled"                | intake    | ignored    |

Enrolment rows are per major, not per student: 学号 must be empty. Every other row names a student the roster
knows (assessment's projection of roster.imported). A major in an enrolment row must be one the roster knows.

The natural key of an outcome (what a re-import replaces):
  cet4/cet6: student, kind, date — a student sits the exam several times, each sitting is a record
  graduation/degree/destination: student, kind — one each
  award: student, award name, date
  enrolment: major, year of the date
Rows of one file sharing a key must agree, or every one of them is a bad row (like grades).
"""
from __future__ import annotations

import re
from datetime import date
from typing import Collection

from marshmallow import RAISE, Schema

from shared.files.columns import Column, ColumnSpec
from shared.files.fields import Cell, CellError, clean, optional_text, parse_id
from shared.files.formats import MAX_BYTES, read_table
from shared.files.report import FileRejected, Problem, Reason
from shared.files.validation import LoadedRow, load_rows, settle_duplicates

CET_PASS = 425            # kpis.md: pass >= 425
CET_MAX = 710             # the CET total score scale

CET4, CET6 = "cet4", "cet6"
GRADUATION, DEGREE = "graduation", "degree"
DESTINATION, AWARD, ENROLMENT = "destination", "award", "enrolment"
KINDS = (CET4, CET6, GRADUATION, DEGREE, DESTINATION, AWARD, ENROLMENT)
KIND_ZH = {CET4: "CET4", CET6: "CET6", GRADUATION: "毕业证", DEGREE: "学位证", DESTINATION: "去向", AWARD: "获奖",
           ENROLMENT: "招生"}

# Destinations (files.md) and which indicator counts them (kpis.md).
EMPLOYED, FURTHER_STUDY, ABROAD, SELF_EMPLOYED, UNPLACED = "employed", "further_study", "abroad", "self_employed", \
    "unplaced"
DESTINATIONS = (EMPLOYED, FURTHER_STUDY, ABROAD, SELF_EMPLOYED, UNPLACED)
DESTINATION_ZH = {EMPLOYED: "就业", FURTHER_STUDY: "升学", ABROAD: "出国", SELF_EMPLOYED: "创业", UNPLACED: "待就业"}

# Award levels, lowest first. kpis.md counts school level or above; 院级 (college) is accepted and kept.
AWARD_LEVELS = ("college", "school", "provincial", "national", "international")
COUNTED_AWARD_LEVELS = ("school", "provincial", "national", "international")
AWARD_LEVEL_ZH = {"college": "院级", "school": "校级", "provincial": "省级", "national": "国家级",
                  "international": "国际级"}

OUTCOME_COLUMNS = ColumnSpec(
    Column("student_id", "学号", "student_id"),
    Column("kind", "类别", "kind", aliases=("类型", "成果类别")),
    Column("date", "日期", "date"),
    Column("value", "值", "value", aliases=("数值", "内容")),
    Column("level", "级别", "level", required=False),
)
RECORD_FIELDS = ("kind", "student_id", "date", "value", "level")


def _fold(text: str) -> str:
    return re.sub(r"[\s_\-·.]+", "", text.casefold())


_KIND_WORDS = {
    CET4: ("CET4", "CET-4", "四级", "英语四级", "大学英语四级", "cet4"),
    CET6: ("CET6", "CET-6", "六级", "英语六级", "大学英语六级", "cet6"),
    GRADUATION: ("毕业证", "毕业证书", "graduation", "graduation certificate"),
    DEGREE: ("学位证", "学位证书", "degree", "degree certificate"),
    DESTINATION: ("去向", "毕业去向", "destination"),
    AWARD: ("获奖", "奖项", "award"),
    ENROLMENT: ("招生", "enrolment", "enrollment"),
}
_KIND_LOOKUP = {_fold(w): kind for kind, words in _KIND_WORDS.items() for w in words}
_DESTINATION_LOOKUP = {_fold(w): code for code, zh in DESTINATION_ZH.items() for w in (zh, code)}
_DESTINATION_LOOKUP.update({_fold(w): code for w, code in (
    ("employed", EMPLOYED), ("further study", FURTHER_STUDY), ("study abroad", ABROAD),
    ("self-employed", SELF_EMPLOYED), ("not yet placed", UNPLACED), ("未就业", UNPLACED))})
_LEVEL_LOOKUP = {_fold(w): code for code, zh in AWARD_LEVEL_ZH.items() for w in (zh, code)}
_LEVEL_LOOKUP.update({_fold(w): code for w, code in (("学院级", "college"), ("省部级", "provincial"),
                                                      ("国家", "national"), ("国际", "international"))})


def parse_kind(text: str) -> str:
    kind = _KIND_LOOKUP.get(_fold(text))
    if kind is None:
        raise CellError("未知的类别，应为 CET4、CET6、毕业证、学位证、去向、获奖 或 招生",
                        "unknown kind; use CET4, CET6, 毕业证 (graduation), 学位证 (degree), 去向 (destination), "
                        "获奖 (award) or 招生 (enrolment)")
    return kind


_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:\s+0{1,2}:00(?::00)?)?$")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


def parse_date(text: str) -> str:
    """2024-06-15, 2024/6/15, 2024.6.15, 2024年6月15日, 20240615 (and Excel's "2024-06-15 00:00:00")."""
    match = _DATE.match(text) or _COMPACT_DATE.match(text)
    if match:
        try:
            day = date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            day = None
        if day is not None and 1950 <= day.year <= 2100:
            return day.isoformat()
    raise CellError("不是有效的日期，应写作 2024-06-15", "not a valid date; write it as 2024-06-15")


class OutcomeRowSchema(Schema):
    class Meta:
        unknown = RAISE

    student_id = Cell(parse_id, blank="")
    kind = Cell(parse_kind, blank=None)
    date = Cell(parse_date, blank="")
    value = optional_text()
    level = optional_text()


_SCHEMA = OutcomeRowSchema()


def _problem(row: LoadedRow, column: str, title, zh: str, en: str) -> Problem:
    return Problem.of(row.file, row.row, column, row.cells.get(column, ""), Reason(zh, en), title(column))


def _check_kind(row: LoadedRow, title, students: Collection[str], majors: Collection[str]) -> tuple[dict, list]:
    """The canonical record of a row whose cells parsed, and the problems its kind finds."""
    data = {"student_id": "", "date": "", "value": "", "level": "", **row.data}
    kind, value = data["kind"], data["value"]
    problems = []
    reported = {p.column for p in row.problems}     # a cell that did not parse is not judged again

    def bad(column, zh, en):
        if column not in reported:
            problems.append(_problem(row, column, title, zh, en))

    if kind == ENROLMENT:
        if data["student_id"]:
            bad("student_id", "招生记录按专业统计，学号应为空", "an enrolment row is per major: leave student_id empty")
        parts = [p.strip() for p in value.split(":")]
        if len(parts) != 3 or not parts[0] or not parts[1].isdigit() or not parts[2].isdigit():
            bad("value", "招生记录的值应写作“专业:计划数:录取数”，如“机器人工程:60:58”",
                "an enrolment value must be 'major:planned:enrolled', e.g. '机器人工程:60:58'")
        else:
            major, planned, enrolled = parts[0], int(parts[1]), int(parts[2])
            if planned <= 0:
                bad("value", "招生计划数必须大于 0", "the planned number must be above 0")
            if majors and major not in majors:
                bad("value", f"名册中没有专业“{major}”（请核对专业名称，或先导入名册）",
                    f"no major '{major}' in the roster (check the name, or import the roster first)")
            value = f"{major}:{planned}:{enrolled}"
        if not data["date"]:
            bad("date", "招生记录需要日期（招生年份）", "an enrolment row needs a date (the intake year)")
        data.update(value=value, level="")
        return data, problems

    if not data["student_id"]:
        bad("student_id", "不能为空", "must not be empty")
    elif data["student_id"] not in students:
        bad("student_id", "名册中没有这个学号（请核对学号，或先导入该学生的名册）",
            "no student with this id in the roster (check the id, or import the student into the roster first)")
    if kind in (CET4, CET6):
        if not re.fullmatch(r"\d{1,3}(\.0+)?", value) or int(float(value)) > CET_MAX:
            bad("value", f"{KIND_ZH[kind]} 的值应为总分（0–{CET_MAX} 的整数）",
                f"a {KIND_ZH[kind]} value must be the total score (a whole number 0–{CET_MAX})")
        else:
            value = str(int(float(value)))
        if not data["date"]:
            bad("date", "需要考试日期", "the exam date is required")
        data.update(value=value, level="")
    elif kind in (GRADUATION, DEGREE):
        if not data["date"]:
            bad("date", "需要发证日期", "the date of award is required")
        data.update(level="")
    elif kind == DESTINATION:
        code = _DESTINATION_LOOKUP.get(_fold(value))
        if code is None:
            bad("value", "去向应为 就业、升学、出国、创业 或 待就业",
                "a destination must be 就业 (employed), 升学 (further study), 出国 (abroad), 创业 (self-employed) "
                "or 待就业 (not yet placed)")
        data.update(value=code or value, level="")
    elif kind == AWARD:
        if not value:
            bad("value", "获奖记录需要奖项名称", "an award row needs the award's name")
        level = _LEVEL_LOOKUP.get(_fold(data["level"])) if data["level"] else None
        if level is None:
            bad("level", "获奖级别应为 校级、省级、国家级 或 国际级（院级也可）",
                "an award level must be 校级 (school), 省级 (provincial), 国家级 (national) or 国际级 "
                "(international); 院级 (college) is accepted too")
        if not data["date"]:
            bad("date", "需要获奖日期", "the date of the award is required")
        data.update(level=level or data["level"])
    return data, problems


def natural_key(record: dict) -> tuple:
    kind = record["kind"]
    if kind in (CET4, CET6):
        return (kind, record["student_id"], record["date"])
    if kind in (GRADUATION, DEGREE, DESTINATION):
        return (kind, record["student_id"])
    if kind == AWARD:
        return (kind, record["student_id"], record["value"], record["date"])
    major = record["value"].split(":")[0]
    return (kind, major, record["date"][:4])


def key_text(record: dict) -> str:
    return "|".join(natural_key(record))


def _duplicate_key(data: dict) -> tuple:
    try:
        return natural_key(data)
    except (KeyError, IndexError):
        return ("?",)


def validate_outcome_rows(filename: str, data: bytes, students: Collection[str], majors: Collection[str] = (), *,
                          max_bytes: int = MAX_BYTES) -> list[dict]:
    """Canonical outcome records (kind, student_id, date, value, level) in file order, identical duplicate rows
    once; or FileRejected listing every problem of every row. ``students``: the ids the roster knows;
    ``majors``: the majors it knows (an enrolment row must name one, when any are known)."""
    table = read_table(filename, data, columns=OUTCOME_COLUMNS, max_bytes=max_bytes)
    problems: list[Problem] = []
    good: list[LoadedRow] = []
    students, majors = set(students), set(majors)
    for row in load_rows(table, _SCHEMA):
        problems.extend(row.problems)
        if "kind" not in row.data:
            continue                      # the kind is unknown: nothing else can be checked
        record, found = _check_kind(row, table.title, students, majors)
        problems.extend(found)
        if found or row.problems:
            continue
        good.append(row._replace(data=record))
    problems.extend(table.problems)
    kept, duplicates = settle_duplicates(good, _duplicate_key, OUTCOME_COLUMNS, ("student_id", "kind"),
                                         RECORD_FIELDS)
    problems.extend(duplicates)
    if problems:
        raise FileRejected(problems)
    return [{f: row.data[f] for f in RECORD_FIELDS} for row in kept]


def enrolment_parts(record: dict) -> tuple[str, int, int]:
    major, planned, enrolled = record["value"].split(":")
    return major, int(planned), int(enrolled)


__all__ = ["validate_outcome_rows", "natural_key", "key_text", "enrolment_parts", "FileRejected", "clean"]
