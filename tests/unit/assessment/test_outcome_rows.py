"""Outcomes files (files.md "Outcomes"): every bad row named with row, column, value and a reason in Chinese and
English; nothing accepted when any row is bad."""
import pytest

from services.assessment.domain.outcomes import natural_key, validate_outcome_rows
from shared.files.report import FileRejected

STUDENTS = {"0210101", "210101002", "210101003"}
MAJORS = {"机械设计制造及其自动化", "机器人工程"}

GOOD = """学号,类别,日期,值,级别
0210101,CET4,2023-06-15,430,
0210101,四级,2023/12/16,455,
210101002,CET-6,2024年6月15日,425,
0210101,毕业证,2025-06-30,,
0210101,学位证书,2025-06-30,,
0210101,去向,,升学,
210101002,去向,2025-07-01,就业,
210101003,获奖,2024-05-20,全国大学生数学建模竞赛,省级
210101003,获奖,2024-05-21,院运动会,院级
,招生,2025-09-01,机器人工程:60:58,
0210101,CET4,2023-06-15,430,
"""


def validate(text, encoding="utf-8", name="outcomes.csv"):
    return validate_outcome_rows(name, text.encode(encoding), STUDENTS, MAJORS)


def problems(text):
    with pytest.raises(FileRejected) as caught:
        validate(text)
    return [(p.row, p.column, p.value) for p in caught.value.problems], caught.value


def test_a_good_file_gives_canonical_records_with_identical_duplicates_once():
    records = validate(GOOD)
    assert len(records) == 10
    assert records[0] == {"kind": "cet4", "student_id": "0210101", "date": "2023-06-15", "value": "430", "level": ""}
    assert records[1]["date"] == "2023-12-16" and records[2]["kind"] == "cet6" and records[2]["date"] == "2024-06-15"
    assert [r["value"] for r in records if r["kind"] == "destination"] == ["further_study", "employed"]
    assert [r["level"] for r in records if r["kind"] == "award"] == ["provincial", "college"]
    assert records[-1] == {"kind": "enrolment", "student_id": "", "date": "2025-09-01", "value": "机器人工程:60:58",
                           "level": ""}


def test_english_headers_gbk_and_full_width_are_read():
    text = "student_id,kind,date,value,level\n0210101,CET4,２０２３-06-15,４３０,\n,招生,2025-09-01,机械设计制造及其自动化：30：29,\n"
    records = validate(text, encoding="gb18030")
    assert records[0]["value"] == "430" and records[0]["date"] == "2023-06-15"
    assert records[1]["value"] == "机械设计制造及其自动化:30:29"


def test_every_bad_row_is_named_and_nothing_is_accepted():
    found, rejected = problems("""学号,类别,日期,值,级别
9999999,CET4,2023-06-15,430,
0210101,CET4,2023-06-15,800,
0210101,CET4,2023-13-01,430,
0210101,托福,2023-06-15,100,
0210101,去向,,待业中,
210101002,获奖,2024-05-20,,市级
,招生,2025-09-01,机械:60:58,
0210101,招生,2025-09-01,机器人工程:sixty:58,
210101003,毕业证,,,
""")
    assert found == [
        (2, "student_id", "9999999"),
        (3, "value", "800"),
        (4, "date", "2023-13-01"),
        (5, "kind", "托福"),
        (6, "value", "待业中"),
        (7, "value", ""), (7, "level", "市级"),
        (8, "value", "机械:60:58"),
        (9, "student_id", "0210101"), (9, "value", "机器人工程:sixty:58"),
        (10, "date", ""),
    ]
    text = rejected.as_text()
    assert "名册中没有这个学号" in text and "no student with this id in the roster" in text
    assert "去向应为 就业、升学、出国、创业 或 待就业" in text and "a destination must be" in text
    assert "名册中没有专业“机械”" in text


def test_duplicate_rows_that_disagree_are_all_bad():
    found, rejected = problems("学号,类别,日期,值,级别\n0210101,去向,,就业,\n0210101,去向,,升学,\n")
    assert found == [(2, "value", "就业"), (3, "value", "升学")]
    assert "第 3 行" in rejected.as_text() and "row 3" in rejected.as_text()


def test_whole_file_problems_are_clear():
    found, rejected = problems("学号,类别,值\n0210101,CET4,430\n")
    assert found == [(1, "date", None)] and "日期" in rejected.as_text()
    with pytest.raises(FileRejected) as empty:
        validate_outcome_rows("x.csv", b"", STUDENTS)
    assert "empty" in empty.value.as_text()
    found, _ = problems("学号,类别,日期,值,级别\n")
    assert found == [(None, None, None)]


def test_natural_keys():
    assert natural_key({"kind": "cet4", "student_id": "s", "date": "2023-06-15", "value": "430"}) == \
        ("cet4", "s", "2023-06-15")
    assert natural_key({"kind": "destination", "student_id": "s", "date": "", "value": "employed"}) == \
        ("destination", "s")
    assert natural_key({"kind": "enrolment", "student_id": "", "date": "2025-09-01", "value": "机械:60:58"}) == \
        ("enrolment", "机械", "2025")
