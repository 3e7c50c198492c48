"""The synonyms grade files use (files.md), resolved to canonical codes."""
import pytest

from services.grades.domain.normalise import (
    parse_course_type, parse_credits, parse_exam_type, parse_score, parse_semester, same_name,
)
from shared.files.fields import CellError


@pytest.mark.parametrize("text,code", [
    ("2023-2024-1", "2023-2024-1"), ("2023-2024学年第1学期", "2023-2024-1"), ("2023-2024-第一学期", "2023-2024-1"),
    ("2023-2024学年第二学期", "2023-2024-2"), ("2023-2024 第2学期", "2023-2024-2"), ("202301", "2023-2024-1"),
    ("202302", "2023-2024-2"), ("202303", "2023-2024-3"), ("2023—2024-1", "2023-2024-1"),
])
def test_semesters(text, code):
    assert parse_semester(text) == code


@pytest.mark.parametrize("text", ["2023", "2023-2024", "202304", "2023-2024-0", "2024-2023-1", "2023-2024学年第四学期"])
def test_bad_semesters(text):
    with pytest.raises(CellError):
        parse_semester(text)


@pytest.mark.parametrize("text,code", [
    ("必修", "required"), ("限选", "restricted"), ("选修", "elective"), ("公选", "elective"),
    ("Required", "required"), ("restricted", "restricted"), ("ELECTIVE", "elective"), ("必修课", "required"),
])
def test_course_types(text, code):
    assert parse_course_type(text) == code


@pytest.mark.parametrize("text,code", [
    ("正常考试", "regular"), ("正常", "regular"), ("初修", "regular"), ("regular", "regular"),
    ("补考", "makeup"), ("补考一", "makeup"), ("补考二", "makeup"), ("Make-up", "makeup"),
    ("重修", "retake"), ("第1次重修", "retake"), ("第二次重修", "retake"), ("第 3 次重修", "retake"),
    ("retake", "retake"), ("缓考", "deferred"), ("Deferred", "deferred"),
])
def test_exam_types(text, code):
    assert parse_exam_type(text) == code


@pytest.mark.parametrize("text", ["期末", "补", "第1次", "重修补考"])
def test_bad_exam_types(text):
    with pytest.raises(CellError):
        parse_exam_type(text)


@pytest.mark.parametrize("text,value", [
    ("0.5", 0.5), ("4", 4.0), ("4.0", 4.0), ("4.00", 4.0), ("20", 20.0), ("1.5", 1.5),
])
def test_credits(text, value):
    assert parse_credits(text) == value


@pytest.mark.parametrize("text", ["0.4", "0", "20.5", "1.25", "-1", "NaN", "abc"])
def test_bad_credits(text):
    with pytest.raises(CellError):
        parse_credits(text)


@pytest.mark.parametrize("text,canonical", [("70", "70"), ("70.0", "70"), ("72.50", "72.5"), ("0", "0"),
                                            ("100", "100"), ("良好", "良好"), ("缺考", "缺考"), ("免修", "免修")])
def test_scores(text, canonical):
    assert parse_score(text) == canonical


@pytest.mark.parametrize("text", ["101", "-1", "abc", "A", "100.01"])
def test_bad_scores(text):
    with pytest.raises(CellError):
        parse_score(text)


def test_names_compare_without_spaces_and_dot_variants():
    assert same_name("买买提•艾力", "买买提·艾力") and same_name("王 五", "王五")
    assert not same_name("王五", "王伍")
