"""The rejection report: every problem, bilingual, row numbers as the user sees them."""
from shared.files.report import FileRejected, Problem, Reason, mask


def test_report_lists_every_problem_in_both_languages_sorted_by_row():
    rejected = FileRejected([
        Problem("g.csv", 9, "score", "101", "成绩必须在 0 到 100 之间", "a numeric score must be between 0 and 100",
                "成绩"),
        Problem("g.csv", None, None, None, "文件只有表头", "header only"),
        Problem.of("g.csv", 3, "credits", "0.25", Reason("学分必须在 0.5 到 20 之间", "credits must be between")),
    ])
    assert [p.row for p in rejected.problems] == [None, 3, 9]
    text = rejected.as_text()
    assert "共 3 个问题" in text and "3 problems" in text
    assert "第 9 行，列“成绩 (score)”，值“101”：成绩必须在 0 到 100 之间" in text
    assert "row 9, column '成绩 (score)', value '101': a numeric score must be between 0 and 100" in text
    assert "第 3 行，列“credits”" in text
    assert str(rejected) == "g.csv rejected: 3 problems"


def test_to_dict_is_plain_data():
    d = FileRejected([Problem("g.csv", 2, "name", "甲", "姓名不符", "name mismatch")]).to_dict()
    assert d == {"rejected": True, "count": 1, "problems": [{
        "file": "g.csv", "row": 2, "column": "name", "value": "甲", "reason_zh": "姓名不符",
        "reason_en": "name mismatch", "header": None}]}


def test_reason_is_a_str_carrying_both_languages():
    r = Reason("空", "empty")
    assert isinstance(r, str) and (r.zh, r.en) == ("空", "empty")


def test_mask_hides_the_middle_of_contact_data():
    assert mask("13800138000") == "138******00"
    assert mask("abc") == "a**"
