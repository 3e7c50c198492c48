"""A head teacher's task list and the forms that record a talk, a parent contact, a class meeting, an observation;
the department head's review of a course review. Every form is checked field by field before the API is asked,
and the API's own refusal is shown with the form kept."""
from datetime import timedelta

import pytest

from services.gateway.errors import Forbidden, Unprocessable
from services.gateway.web import forms
from services.gateway.web.views.tasks import today
from tests.unit.gateway_web.fakes import FakeCtx, get, post, principal

HEAD = principal("head_teacher", "T1001", "王老师", classes=("机械2101",))
DEPT = principal("department_head", "D01", "李主任", majors=("机械设计制造及其自动化",))
PAST = (today() - timedelta(days=10)).isoformat()
FUTURE = (today() + timedelta(days=5)).isoformat()


def task(task_id="TK-1", kind="talk", status="open", assignee="T1001", due=FUTURE, **extra):
    return {"task_id": task_id, "kind": kind, "assignee": assignee, "student_id": "210101001", "class_name": "机械2101",
            "major": "机械设计制造及其自动化", "cohort": 2021, "course_code": None, "semester": "2021-2022-1",
            "due": due, "status": status, "note": None, "cause": f"talk:{task_id}", "duty_role": "head_teacher",
            "escalated_to": None, "escalated_at": None, "closed_by": None, "closed_at": None, "detail": {},
            "record": None, "outcome": None, "history": [], **extra}


WARNINGS = {"warnings": [{"student_id": "210101001", "name": "杨建明", "class_name": "机械2101", "level": "orange",
                          "semester": "2021-2022-1", "status": "active", "rules": []}]}


def head_ctx(**answers):
    return FakeCtx(HEAD, answers={"warnings.list": WARNINGS, **answers})


def test_the_task_list_shows_the_students_name_and_what_is_overdue():
    ctx = head_ctx(**{"tasks.list": {"tasks": [task("TK-1", due=PAST), task("TK-2", kind="parent_contact")]}})
    page = get(ctx, "/ui/tasks").text
    assert ctx.called("tasks.list") == [{"mine": True, "status": "unfinished", "kind": None, "semester": None}]
    assert "一对一面谈" in page and "家长联系" in page and "杨建明" in page
    assert "已逾期 10 天" in page and page.count("已逾期") == 1
    assert 'href="/ui/tasks/TK-1"' in page


def test_filters_are_passed_on_and_unknown_values_ignored():
    ctx = head_ctx(**{"tasks.list": {"tasks": []}})
    get(ctx, "/ui/tasks?status=done&kind=class_meeting")
    page = get(ctx, "/ui/tasks?status=everything&kind=<script>&saved=<b>hi</b>&semester=2021").text
    assert "<b>hi</b>" not in page and 'id="saved"' not in page
    assert [(c["status"], c["kind"], c["semester"]) for c in ctx.called("tasks.list")] == [
        ("done", "class_meeting", None), ("unfinished", None, None)]


def test_recording_a_talk_closes_the_task_with_its_record():
    ctx = head_ctx(**{"tasks.show": task(), "tasks.close": {"status": "closed", "task_id": "TK-1",
                                                             "follow_up": {"task_id": "TK-9", "due": "2021-11-20"}}})
    page = get(ctx, "/ui/tasks/TK-1").text
    for name in ("date", "place", "discussion", "support_plan", "follow_up"):
        assert f'name="{name}"' in page
    response = post(ctx, "/ui/tasks/TK-1", {"action": "close", "date": "2021-10-08", "place": "办公室",
                                            "discussion": "谈了学习计划", "support_plan": "每周答疑",
                                            "follow_up": "2021-11-20"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/ui/tasks?saved=closed&follow_up_due=2021-11-20"
    (call,) = ctx.called("tasks.close")
    assert call == {"task_id": "TK-1", "record": {"date": "2021-10-08", "place": "办公室", "discussion": "谈了学习计划",
                                                  "support_plan": "每周答疑", "follow_up": "2021-11-20"}}
    saved = get(head_ctx(**{"tasks.list": {"tasks": []}}), response.headers["Location"]).text
    assert "已保存，任务已完成" in saved and "2021-11-20" in saved


def test_a_form_with_missing_or_wrong_fields_is_shown_again_with_each_field_marked():
    ctx = head_ctx(**{"tasks.show": task()})
    response = post(ctx, "/ui/tasks/TK-1", {"action": "close", "date": "08/10/2021", "place": "办公室",
                                            "discussion": "", "support_plan": "x", "follow_up": ""})
    assert response.status_code == 422 and ctx.called("tasks.close") == []
    page = response.text
    assert "请修改标出的字段" in page and "格式 YYYY-MM-DD" in page and "必填" in page
    assert ">办公室</textarea>" in page            # what was typed is kept
    assert 'id="f-discussion" name="discussion"' in page and 'aria-describedby="e-discussion"' in page


def test_the_services_refusal_is_shown_and_the_form_kept():
    ctx = head_ctx(**{"tasks.show": task(), "tasks.close": Unprocessable("task TK-1 is already done", field="record")})
    response = post(ctx, "/ui/tasks/TK-1", {"action": "close", "date": "2021-10-08", "place": "p", "discussion": "d",
                                            "support_plan": "s"})
    assert response.status_code == 422
    assert "未能保存：task TK-1 is already done" in response.text and ">p</textarea>" in response.text


def test_someone_elses_task_is_read_only():
    ctx = head_ctx(**{"tasks.show": task(assignee="T9999")})
    page = get(ctx, "/ui/tasks/TK-1").text
    assert "<form method=\"post\" action=\"/ui/tasks/TK-1\"" not in page and "T9999" in page
    response = post(ctx, "/ui/tasks/TK-1", {"action": "close", "date": "2021-10-08"})
    assert response.status_code == 409 and ctx.called("tasks.close") == []


def test_a_task_outside_ones_scope_is_refused_by_the_api_and_shown_as_such():
    ctx = head_ctx(**{"tasks.show": Forbidden("outside", field="task_id")})
    assert get(ctx, "/ui/tasks/TK-1").status_code == 403


@pytest.mark.parametrize("kind, form, record", [
    ("parent_contact", {"channel": "phone", "date": "2021-10-09", "summary": "电话沟通"},
     {"channel": "phone", "date": "2021-10-09", "summary": "电话沟通"}),
    ("class_meeting", {"date": "2021-10-15", "topic": "学习方法", "attendance": "32", "summary": ""},
     {"date": "2021-10-15", "topic": "学习方法", "attendance": 32}),
    ("observation", {"date": "2021-10-20", "course": "高等数学", "teacher": "张老师", "notes": "课堂秩序良好"},
     {"date": "2021-10-20", "course": "高等数学", "teacher": "张老师", "notes": "课堂秩序良好"}),
    ("counselor_meeting", {"date": "2021-11-01", "attendees": "王老师，李老师、赵老师\n钱老师", "minutes": "纪要"},
     {"date": "2021-11-01", "attendees": ["王老师", "李老师", "赵老师", "钱老师"], "minutes": "纪要"}),
])
def test_each_kind_of_record_is_read_into_what_the_advising_service_stores(kind, form, record):
    from services.advising.domain.records import check_record
    read, errors = forms.read_record(kind, form)
    assert errors == {} and read == record
    assert check_record(kind, read)             # the service accepts exactly this


def test_every_duty_the_advising_service_knows_has_a_form_with_its_fields_labelled_in_both_languages():
    from services.advising.domain.records import RECORD_SCHEMAS
    from services.gateway.web.i18n import MESSAGES
    for kind, schema in RECORD_SCHEMAS.items():
        asked = {f.name for f in forms.form_for(kind)}
        assert asked | set(forms.FILLED_BY_PAGE.get(kind, ())) == set(schema().fields), kind
        assert f"kind.{kind}" in MESSAGES, kind
        for f in forms.form_for(kind):
            assert f"field.{f.name}" in MESSAGES, (kind, f.name)
            for choice in f.choices:
                assert f"{f.name}.{choice}" in MESSAGES, (kind, f.name, choice)


def test_a_counselor_confirms_the_list_version_the_task_was_issued_for():
    from services.advising.domain.records import check_record
    confirm = task("CL-T", kind="counselor_list", detail={"list_id": "CL-ab12", "version": 2, "students": 14})
    record, errors = forms.read_record("counselor_list", {"date": "2021-10-10", "comment": "", "list_id": "CL-evil"},
                                       confirm)
    assert errors == {} and record == {"list_id": "CL-ab12", "version": 2, "date": "2021-10-10"}
    assert check_record("counselor_list", record)


def test_form_checks():
    _, errors = forms.read_record("class_meeting", {"date": "2021-02-30", "topic": "x" * 201, "attendance": "-1"})
    assert errors == {"date": "error.date", "topic": "error.too_long", "attendance": "error.count"}
    _, errors = forms.read_record("talk", {"date": "2021-10-08", "place": "p", "discussion": "d", "support_plan": "s",
                                           "follow_up": "2021-10-08"})
    assert errors == {"follow_up": "error.follow_up_after"}
    _, errors = forms.read_record("parent_contact", {"channel": "carrier pigeon", "date": "2021-10-08", "summary": "s"})
    assert errors == {"channel": "error.choice"}


# --- the department head's review ---------------------------------------------------------------------------

def review_task(status="submitted"):
    return task("CR-1", kind="course_review", status=status, assignee="D01", course_code="MATH101",
                student_id=None, detail={"course_name": "高等数学"},
                record={"analysis": "基础薄弱", "causes": "课时不足", "measures": "增加习题课", "authors": "数学组"})


def test_the_department_head_returns_a_review_saying_what_is_missing():
    ctx = FakeCtx(DEPT, answers={"tasks.show": review_task(), "tasks.review": {"status": "open", "task_id": "CR-1"}})
    page = get(ctx, "/ui/tasks/CR-1").text
    assert "基础薄弱" in page and 'name="decision" value="approve"' in page
    refused = post(ctx, "/ui/tasks/CR-1", {"action": "review", "decision": "return", "comment": ""})
    assert refused.status_code == 422 and "退回时请说明缺少什么" in refused.text and ctx.called("tasks.review") == []
    response = post(ctx, "/ui/tasks/CR-1", {"action": "review", "decision": "return", "comment": "请补充数据"})
    assert response.status_code == 303 and response.headers["Location"] == "/ui/courses?saved=reviewed"
    assert ctx.called("tasks.review") == [{"task_id": "CR-1", "decision": "return", "comment": "请补充数据"}]


def test_an_open_course_review_is_submitted_with_its_analysis():
    ctx = FakeCtx(DEPT, answers={"tasks.show": review_task("open"), "tasks.submit": {"status": "submitted"}})
    response = post(ctx, "/ui/tasks/CR-1", {"action": "submit", "analysis": "a", "causes": "c", "measures": "m"})
    assert response.status_code == 303
    assert ctx.called("tasks.submit") == [{"task_id": "CR-1", "record": {"analysis": "a", "causes": "c", "measures": "m"}}]
