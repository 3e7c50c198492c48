"""The vice dean's dashboard (figures, charts, links to the full report), the counselor's cohort lists, the
department head's flagged courses, and the acknowledgement page a family opens from a notice."""
import re

import pytest
from werkzeug.wrappers import Response

from services.assessment.domain.report import semester_report
from services.gateway.errors import NotFound
from services.gateway.web.views.dashboard import current_semester
from tests.unit.assessment.test_semester_report_data import facts
from tests.unit.gateway_web.fakes import FakeCtx, get, post, principal

VICE_DEAN = principal("vice_dean", "V0001", "副院长")
COUNSELOR = principal("counselor", "C2021", "余丽明", cohorts=("2021",))
DEPT = principal("department_head", "D01", "李主任", majors=("机械",))


@pytest.fixture(scope="module")
def report():
    """The hand-checked small college of tests/unit/assessment (S = 2024-2025-2): 40% failure, 3 warned…"""
    data = semester_report(facts())
    data["semesters_with_grades"] = ["2024-2025-1", "2024-2025-2"]
    return data


def reports_by_semester(report):
    def answer(semester, **_):
        return {**report, "semester": semester} if semester != report["semester"] else report
    return answer


def test_without_a_semester_the_dashboard_shows_the_newest_one_with_grades(report):
    ctx = FakeCtx(VICE_DEAN, answers={"report.semester": reports_by_semester(report)})
    page = get(ctx, "/ui/dashboard").text
    asked = [c["semester"] for c in ctx.called("report.semester")]
    assert asked[-1] == "2024-2025-2" and len(asked) <= 2
    assert "教学质量看板 · 2024-2025-2" in page
    tiles = dict(re.findall(r'<div class="value">([^<]+)</div><div class="label">([^<]+)</div>', page))
    assert tiles["40.0%"] == "不及格率" and tiles["3"] == "预警学生" and tiles["7"] == "在读学生"
    assert "上学期 50.0%" in page and "上学期 4" in page


def test_the_charts_are_inline_svg_with_the_figures(report):
    page = get(FakeCtx(VICE_DEAN, answers={"report.semester": reports_by_semester(report)}),
               "/ui/dashboard?semester=2024-2025-2").text
    levels = re.search(r'<section class="card" id="chart-levels">(.*?)</section>', page, re.S).group(1)
    assert levels.startswith("<svg") and "学业预警人数（按级别）" in levels
    # now 0 yellow / 2 orange / 1 red; before 2 / 1 / 1
    assert re.findall(r"<title>上学期 2024-2025-1 (?:黄色|橙色|红色)预警: (\d+)</title>", levels) == ["2", "1", "1"]
    assert re.findall(r"<title>本学期 2024-2025-2 (?:黄色|橙色|红色)预警: (\d+)</title>", levels) == ["0", "2", "1"]
    failure = re.search(r'id="chart-failure">(.*?)</section>', page, re.S).group(1)
    assert "2021 机械" in failure and "33.3%" in failure
    assert 'href="/ui/report/2024-2025-2"' in page and 'href="/ui/report/2024-2025-2/pdf"' in page


def test_the_dashboard_in_english(report):
    page = get(FakeCtx(VICE_DEAN, lang="en", answers={"report.semester": reports_by_semester(report)}),
               "/ui/dashboard?semester=2024-2025-2").text
    assert "Academic-quality dashboard" in page and "Warned students by level" in page and "Failure rate" in page


def test_the_full_report_is_shown_in_the_browser_not_downloaded():
    ctx = FakeCtx(VICE_DEAN, answers={"report.semester_document": lambda **p: Response(
        "<html><style>h1{}</style>报告</html>", mimetype="text/html",
        headers={"Content-Disposition": 'attachment; filename="r.html"'})})
    response = get(ctx, "/ui/report/2024-2025-2")
    assert response.status_code == 200 and "报告" in response.text
    assert response.headers["Content-Disposition"] == "inline"
    assert "style-src 'unsafe-inline'" in response.headers["Content-Security-Policy"]
    assert ctx.called("report.semester_document") == [{"semester": "2024-2025-2", "format": "html"}]
    assert get(ctx, "/ui/report/not-a-semester").status_code == 404


def test_the_dashboard_is_the_vice_deans_not_a_head_teachers():
    assert get(FakeCtx(principal("head_teacher")), "/ui/dashboard").status_code == 403


@pytest.mark.parametrize("on, code", [("2025-09-10", "2025-2026-1"), ("2026-01-15", "2025-2026-1"),
                                      ("2026-03-01", "2025-2026-2"), ("2026-07-20", "2025-2026-2")])
def test_the_semester_of_a_day(on, code):
    from datetime import date
    assert current_semester(date.fromisoformat(on)) == code


# --- counselor ----------------------------------------------------------------------------------------------

def lists_answers(waiting=(), done=()) -> dict:
    """The counselor lists' API answers: ``waiting`` lists.show answers (unconfirmed), ``done`` list rows."""
    rows = [{**{k: v for k, v in l.items() if k not in ("entries", "changes", "recipients")}} for l in waiting]
    rows += list(done)
    shown = {l["list_id"]: l for l in waiting}
    return {"lists.list": {"lists": rows}, "lists.show": lambda list_id: shown[list_id]}


def test_the_counselor_sees_warned_students_by_class_with_their_open_duties():
    warnings = {"warnings": [
        {"student_id": "210101002", "name": "林敏", "class_name": "机械2101", "level": "yellow", "semester": "2021-2022-1"},
        {"student_id": "210101001", "name": "杨建明", "class_name": "机械2101", "level": "red", "semester": "2021-2022-1"},
        {"student_id": "210201001", "name": "周涛", "class_name": "电气2101", "level": "orange", "semester": "2021-2022-1"}]}
    tasks = {"tasks": [{"task_id": "TK-1", "kind": "talk", "student_id": "210101001", "due": "2000-01-01",
                        "status": "open"}]}
    ctx = FakeCtx(COUNSELOR, answers={"warnings.list": warnings, "tasks.list": tasks, **lists_answers()})
    page = get(ctx, "/ui/cohort").text
    assert ctx.called("warnings.list") == [{"status": "active"}]
    assert page.index("机械2101") < page.index("电气2101")
    assert page.index("杨建明") < page.index("林敏")          # red before yellow
    assert 'href="/ui/tasks/TK-1">一对一面谈</a>' in page and "已逾期" in page


def test_the_cohort_page_is_for_counselors():
    assert get(FakeCtx(principal("head_teacher")), "/ui/cohort").status_code == 403


# --- department head ----------------------------------------------------------------------------------------

def test_the_department_head_sees_the_flagged_courses_of_their_majors_and_what_waits_for_review():
    flags = {"flags": [
        {"semester": "2021-2022-1", "course_code": "MATH1", "course_name": "高等数学", "teacher": "张老师", "rate": 0.4,
         "failed": 12, "total": 30, "previous_rate": None, "majors": ["机械"]},
        {"semester": "2021-2022-1", "course_code": "EE1", "course_name": "电路", "teacher": "孙老师", "rate": 0.3,
         "failed": 9, "total": 30, "previous_rate": 0.2, "majors": ["电气"]}]}
    reviews = {"tasks": [{"task_id": "CR-1", "kind": "course_review", "semester": "2021-2022-1",
                          "course_code": "MATH1", "status": "submitted", "assignee": "D01", "due": "2099-01-01"}]}
    page = get(FakeCtx(DEPT, answers={"flags.list": flags, "tasks.list": reviews}), "/ui/courses").text
    assert "高等数学" in page and "电路" not in page
    assert "40.0%" in page and "12/30" in page
    assert page.count('href="/ui/tasks/CR-1"') == 2          # in "waiting for my review" and in the course's row


# --- acknowledgement links ----------------------------------------------------------------------------------

ACK = {"status": "ok", "role": "guardian", "student": {"name": "杨*明", "id": "2101****01"}, "semester": "2021-2022-1",
       "level": "orange", "change": "issued", "old_level": None, "escalated": False,
       "reasons": [{"rule": "unresolved_failed_credits", "level": "orange", "measure": 16.0, "threshold": 15.0,
                    "comparison": ">=", "courses": [{"course_code": "MATH1", "course_name": "高等数学", "credits": 4.0,
                                                     "result": "45"}]}],
       "follow_up": None, "locale": "zh", "acknowledged": False, "expires_at": "2021-11-01T00:00:00+00:00",
       "acknowledged_at": None}


def test_a_family_opens_the_link_and_signs_without_signing_in():
    ctx = FakeCtx(None, answers={"acknowledgement.open": ACK,
                                 "acknowledgement.sign": {**ACK, "status": "acknowledged", "acknowledged": True,
                                                          "acknowledged_at": "2021-10-20T08:00:00+00:00"}})
    page = get(ctx, "/ack/tok-abcdefgh").text
    assert "杨*明" in page and "累计未通过学分" in page and "高等数学" in page and 'action="/ack/tok-abcdefgh"' in page
    signed = post(ctx, "/ack/tok-abcdefgh", {"signer_name": "宋华英"}, csrf=False)
    assert signed.status_code == 200 and "已签收，谢谢" in signed.text
    assert ctx.called("acknowledgement.sign") == [{"token": "tok-abcdefgh", "signer_name": "宋华英"}]


def test_an_empty_name_is_asked_for_again_and_a_dead_link_says_why():
    ctx = FakeCtx(None, answers={"acknowledgement.open": ACK})
    response = post(ctx, "/ack/tok-abcdefgh", {"signer_name": " "}, csrf=False)
    assert response.status_code == 422 and "必填" in response.text and ctx.called("acknowledgement.sign") == []
    dead = FakeCtx(None, answers={"acknowledgement.open": NotFound("invalid", field="token")})
    page = get(dead, "/ack/forged-token")
    assert page.status_code == 404 and "此链接无效" in page.text


def test_a_semester_without_a_previous_one_is_not_compared_with_zeros(report):
    first = {**report, "overview": {**report["overview"], "previous_failure": {"rate": None, "results": {
        "numerator": 0, "denominator": 0, "rate": None}}, "previously_warned": 0}}
    page = get(FakeCtx(VICE_DEAN, answers={"report.semester": first}), "/ui/dashboard?semester=2024-2025-2").text
    assert "上学期" not in page
