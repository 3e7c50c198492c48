"""Grades files -> canonical grade records, and every bad row named (files.md "Grades", policy.md §1)."""
import time

import pytest

from contracts.events import GradeRecordSchema
from services.grades.domain.rows import student_ids_in, validate_grade_rows
from shared.files.report import FileRejected

HEADER = "学号,姓名,学年学期,课程代码,课程名称,学分,课程性质,考试性质,成绩,任课教师,开课学院"
ROSTER = {"0210101007": "周明浩", "210101001": "杨建明", "210101002": "林敏"}
GOOD = "210101001,杨建明,2023-2024-1,MATH01,高等数学(1),4.0,必修,正常考试,70,杨英,数学学院"


def grades(*lines, header=HEADER, encoding="utf-8"):
    return ("\n".join((header,) + lines) + "\n").encode(encoding)


def row(**changes):
    """GOOD with some cells replaced."""
    cells = dict(zip(HEADER.split(","), GOOD.split(",")))
    cells.update(changes)
    return ",".join(cells.values())


def problems_of(data, roster=ROSTER):
    with pytest.raises(FileRejected) as info:
        validate_grade_rows("g.csv", data, roster)
    return info.value.problems


def test_a_good_row_becomes_a_canonical_record():
    [record] = validate_grade_rows("g.csv", grades(GOOD), ROSTER)
    assert record == {"student_id": "210101001", "semester": "2023-2024-1", "course_code": "MATH01",
                      "course_name": "高等数学(1)", "credits": 4.0, "course_type": "required",
                      "exam_type": "regular", "score": "70", "teacher": "杨英", "offering_college": "数学学院"}
    assert GradeRecordSchema().load(record) == record


def test_gbk_file_with_english_headers_in_another_order_and_leading_zero_id():
    header = "Score,Name,Student ID,semester,course_code,course_name,credits,course_type,exam_type"
    data = grades("缺考,周明浩,0210101007,202302,ENG02,大学英语(2),2,限选,补考一", header=header, encoding="gbk")
    [record] = validate_grade_rows("g.csv", data, ROSTER)
    assert record["student_id"] == "0210101007" and record["semester"] == "2023-2024-2"
    assert (record["course_type"], record["exam_type"], record["score"]) == ("restricted", "makeup", "缺考")
    assert (record["teacher"], record["offering_college"]) == ("", "")       # columns absent: this college


def test_bom_file_with_synonyms_and_full_width_cells():
    data = grades(row(学年学期="2023-2024学年第1学期", 课程性质="公选", 考试性质="第2次重修", 成绩="７２.５０",
                      学号="２１０１０１００１", 任课教师="", 开课学院=""), encoding="utf-8-sig")
    [record] = validate_grade_rows("g.csv", data, ROSTER)
    assert (record["semester"], record["course_type"], record["exam_type"], record["score"]) == \
        ("2023-2024-1", "elective", "retake", "72.5")
    assert record["student_id"] == "210101001" and record["teacher"] == ""


def test_identical_duplicate_rows_are_kept_once_even_when_written_differently():
    data = grades(GOOD, row(成绩="70.0", 学年学期="2023-2024-第一学期"), row(课程代码="ENG01"))
    records = validate_grade_rows("g.csv", data, ROSTER)
    assert [r["course_code"] for r in records] == ["MATH01", "ENG01"]


def test_empty_score_is_kept_as_no_result_yet():
    [record] = validate_grade_rows("g.csv", grades(row(成绩="", 考试性质="缓考")), ROSTER)
    assert (record["score"], record["exam_type"]) == ("", "deferred")


@pytest.mark.parametrize("column,value,key,zh,en", [
    ("成绩", "101", "score", "0 到 100", "between 0 and 100"),
    ("成绩", "abc", "score", "无法识别的成绩", "unrecognised score"),
    ("学分", "0.25", "credits", "0.5 到 20", "between 0.5 and 20"),
    ("学分", "1.25", "credits", "一位小数", "one decimal place"),
    ("学分", "21", "credits", "0.5 到 20", "between 0.5 and 20"),
    ("学分", "三", "credits", "数字", "must be a number"),
    ("课程性质", "核心", "course_type", "未知的课程性质", "unknown course type"),
    ("考试性质", "期中", "exam_type", "未知的考试性质", "unknown exam type"),
    ("学年学期", "2023秋", "semester", "学年学期", "not a recognisable semester"),
    ("学年学期", "2023-2025-1", "semester", "相邻", "consecutive"),
    ("学年学期", "2023-2024-4", "semester", "学年学期", "not a recognisable semester"),
    ("课程代码", "", "course_code", "不能为空", "must not be empty"),
    ("学号", "2.10101E+08", "student_id", "科学计数法", "scientific notation"),
])
def test_a_bad_cell_names_row_column_value_and_reason(column, value, key, zh, en):
    data = grades(GOOD, row(**{column: value, "课程代码": "ENG01"} if key != "course_code" else {column: value}))
    [p] = problems_of(data)
    assert (p.file, p.row, p.column, p.header) == ("g.csv", 3, key, column)
    assert p.value == value
    assert zh in p.reason_zh and en in p.reason_en


def test_unknown_student():
    [p] = problems_of(grades(GOOD, row(学号="210109999")))
    assert (p.row, p.column, p.value) == (3, "student_id", "210109999")
    assert "名册中没有这个学号" in p.reason_zh and "no student with this id" in p.reason_en


def test_leading_zero_matters_for_the_roster():
    [p] = problems_of(grades(row(学号="210101007", 姓名="周明浩")))
    assert (p.row, p.column) == (2, "student_id")


def test_name_mismatch_names_the_roster_name():
    [p] = problems_of(grades(row(姓名="杨健明")))
    assert (p.row, p.column, p.value) == (2, "name", "杨健明")
    assert "杨建明" in p.reason_zh and "does not match the roster" in p.reason_en


def test_name_match_ignores_spaces():
    assert validate_grade_rows("g.csv", grades(row(姓名=" 杨 建明 ")), ROSTER)


def test_disagreeing_duplicate_key_rejects_every_such_row():
    data = grades(GOOD, row(课程代码="ENG01"), row(成绩="75", 考试性质="正常"), row(成绩="80"))
    problems = problems_of(data)
    assert [(p.row, p.column) for p in problems] == [(2, "score"), (4, "score"), (5, "score")]
    assert "第 4、5 行" in problems[0].reason_zh and "rows 4, 5" in problems[0].reason_en
    assert "成绩不同" in problems[0].reason_zh and "a different score" in problems[0].reason_en


def test_every_bad_row_is_reported_not_only_the_first():
    data = grades(row(成绩="101"), row(学分="0.25", 课程性质="X"), GOOD.replace("MATH01", "ENG01"),
                  row(学号="9", 课程代码="C9"))
    problems = problems_of(data)
    assert [(p.row, p.column) for p in problems] == [
        (2, "score"), (3, "credits"), (3, "course_type"), (5, "student_id")]
    text = FileRejected(problems).as_text()
    assert "共 4 个问题" in text and "4 problems" in text


@pytest.mark.parametrize("data,en", [
    (b"", "empty"),
    (grades(), "no data rows"),
    (("\n".join([GOOD, GOOD]) + "\n").encode(), "no recognisable header"),
    (b"\x00\x01\x02binary", "binary"),
])
def test_whole_file_problems(data, en):
    [p] = problems_of(data)
    assert p.row is None and en in p.reason_en and p.reason_zh


def test_missing_column_is_named():
    header = HEADER.replace(",学分", "")
    problems = problems_of(grades(GOOD.replace(",4.0", ""), header=header))
    assert [(p.row, p.column, p.header) for p in problems] == [(1, "credits", "学分")]
    assert "学分" in problems[0].reason_zh


def test_student_ids_in_reads_ids_before_the_roster_is_known():
    data = grades(GOOD, row(学号="０210101007", 姓名="周明浩"), row(学号=""))
    assert student_ids_in("g.csv", data) == {"210101001", "0210101007"}
    with pytest.raises(FileRejected):
        student_ids_in("g.csv", b"")


def test_one_hundred_thousand_rows_validate_in_seconds():
    roster = {f"21{s:07d}": f"学生{s}" for s in range(2000)}
    lines = [f"21{s:07d},学生{s},2023-2024-1,C{c:03d},课程{c},3.5,必修,正常考试,{(s + c) % 101},老师{c},"
             for s in range(2000) for c in range(50)]
    data = grades(*lines)
    started = time.perf_counter()
    records = validate_grade_rows("big.csv", data, roster)
    elapsed = time.perf_counter() - started
    assert len(records) == 100_000
    assert elapsed < 10, f"{elapsed:.1f}s"     # about 3 s on a 2-core machine


# --- one pass for a good file, every problem named for a bad one (check_grade_file) ---------------------------------

def checked(data, roster=ROSTER):
    """What check_grade_file finds: (problems, records handed over, tables opened, ids the roster was asked for)."""
    from services.grades.domain.rows import check_grade_file, grade_table
    opened, asked, records = [], [], []

    def open_table():
        opened.append(1)
        return grade_table("g.csv", data)

    def names_of(ids):
        asked.append(ids)
        return roster

    problems = check_grade_file(open_table, names_of, records.extend)
    return problems, records, len(opened), asked


def test_a_good_file_is_read_once_and_the_roster_asked_once_for_every_student_it_names():
    data = grades(GOOD, row(学号="０210101007", 姓名="周明浩"), row(课程代码="ENG01"), GOOD)
    problems, records, opened, asked = checked(data)
    assert (problems, opened, asked) == ([], 1, [["0210101007", "210101001"]])
    assert [(r[0], r[2]) for r in records] == [("210101001", "MATH01"), ("0210101007", "MATH01"),
                                               ("210101001", "ENG01")]


@pytest.mark.parametrize("lines", [
    [GOOD, row(姓名="杨健明", 课程代码="ENG01")],                       # valid cells, a name the roster disagrees with
    [GOOD, row(学号="210109999", 成绩="101")],                          # an unknown student in a bad row
    [row(学号=""), row(学号="210101002", 姓名="林敏", 成绩="一百")],      # no id at all; a bad score
    [GOOD, row(成绩="75")],                                             # the same key, another score
])
def test_a_bad_file_is_read_again_to_name_every_problem_as_the_row_by_row_check_does(lines):
    from services.grades.domain.rows import check_grade_records, grade_table
    data = grades(*lines)
    problems, _, opened, asked = checked(data)
    named = check_grade_records(lambda: grade_table("g.csv", data), ROSTER, lambda records: None)
    assert problems and [p.to_dict() for p in problems] == [p.to_dict() for p in named]
    assert opened >= 2 and len(asked) == 1
    assert asked[0] == sorted({line.split(",")[0] for line in lines} - {""})
