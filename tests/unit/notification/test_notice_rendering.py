"""Rendered notices say WHY (rules, measures, thresholds, courses, escalation) and WHAT HAPPENS NEXT, in Chinese."""
import pytest

from services.notification.domain.recipients import (
    NoticeSpec, People, notices_for_course_flag, notices_for_warning_change,
)
from services.notification.domain.rendering import RenderedNotice, measure, number, percent, render

PEOPLE = People(student_id="210301001", student_name="张三", class_name="机械2101", major="机械设计制造及其自动化",
                head_teacher_id="T1001", counselor_id="C2021", department_head_id="D0301", vice_dean_id="V0001")
OTHER = People(student_id="210301007", student_name="李四", class_name="机械2102", major="机械设计制造及其自动化",
               head_teacher_id="T1002", counselor_id="C2021", department_head_id="D0301", vice_dean_id="V0001")

REASONS = [
    {"rule": "unresolved_failed_credits", "level": "orange", "measure": 16.0, "threshold": 15.0, "comparison": ">=",
     "courses": [{"course_code": "MATH01", "course_name": "高等数学", "credits": 5.0, "result": "45"},
                 {"course_code": "ENG02", "course_name": "大学英语", "credits": 2.5, "result": "缺考"}]},
    {"rule": "semester_failed_credits", "level": "yellow", "measure": 8.0, "threshold": 8.0, "comparison": ">=",
     "courses": [{"course_code": "PHY01", "course_name": "大学物理", "credits": 4.0, "result": "不及格"}]},
    {"rule": "gpa", "level": "orange", "measure": 1.7666666, "threshold": 1.8, "comparison": "<", "courses": []},
]


def change(kind="issued", old="none", new="orange", escalated=False, student_id="210301001", reasons=REASONS):
    return {"change_id": f"chg-{student_id}", "student_id": student_id, "semester": "2023-2024-1", "kind": kind,
            "old_level": old, "new_level": new, "escalated": escalated,
            "reasons": [] if new == "none" else reasons, "policy_version": "default-1"}


def notice(recipient_kind, **kwargs) -> tuple[NoticeSpec, RenderedNotice]:
    people = kwargs.pop("people", PEOPLE)
    spec = next(s for s in notices_for_warning_change(change(**kwargs), people) if s.recipient_kind == recipient_kind)
    return spec, render(spec)


ALL_WARNING_NOTICES = [
    (kind, old, new, spec.recipient_kind)
    for kind, old, new in [("issued", "none", "yellow"), ("issued", "none", "orange"), ("issued", "none", "red"),
                           ("escalated", "yellow", "orange"), ("escalated", "orange", "red"),
                           ("downgraded", "red", "yellow"), ("lifted", "orange", "none")]
    for spec in notices_for_warning_change(change(kind=kind, old=old, new=new), PEOPLE)
]


@pytest.mark.parametrize("kind,old,new,recipient_kind", ALL_WARNING_NOTICES)
def test_every_warning_notice_renders_in_chinese(kind, old, new, recipient_kind):
    _, rendered = notice(recipient_kind, kind=kind, old=old, new=new)
    assert rendered.subject and "\n" not in rendered.subject
    assert "学业预警" in rendered.subject or "解除预警" in rendered.subject
    assert "张三" in rendered.text
    if recipient_kind != "student":       # a student's own notice greets them by name; others name the student fully
        assert "210301001" in rendered.text
    assert rendered.html.startswith("<!DOCTYPE html>") and 'lang="zh-CN"' in rendered.html
    assert "2023-2024学年第一学期" in rendered.text


@pytest.mark.parametrize("recipient_kind", ["student", "guardian", "counselor"])
def test_notice_says_why_each_rule_fired_with_measure_threshold_and_courses(recipient_kind):
    _, rendered = notice(recipient_kind, new="orange")
    for body in (rendered.text, rendered.html):
        assert "应修未得学分" in body and "本学期不及格学分" in body and "平均学分绩点" in body
        assert "16 学分" in body and "不少于 15 学分" in body
        assert "1.77" in body and "低于 1.80" in body          # GPA: 2 decimals, for display only
        for code, name, result in [("MATH01", "高等数学", "45"), ("ENG02", "大学英语", "缺考"),
                                   ("PHY01", "大学物理", "不及格")]:
            assert code in body and name in body and result in body
    assert "MATH01 高等数学，5 学分，成绩：45" in rendered.text
    assert "ENG02 大学英语，2.5 学分，成绩：缺考" in rendered.text


def test_escalation_is_explained_only_when_it_applied():
    _, escalated = notice("student", new="orange", escalated=True)
    _, plain = notice("student", new="orange", escalated=False)
    assert "上一学期也处于学业预警状态" in escalated.text and "上一学期也处于学业预警状态" in escalated.html
    assert "上一学期" not in plain.text


@pytest.mark.parametrize("level,expected", [
    ("yellow", ["14 天内与你进行一对一面谈"]),
    ("orange", ["7 天内与你进行一对一面谈", "14 天内与你的家长联系"]),
    ("red", ["7 天内与你进行一对一面谈", "7 天内与你的家长联系", "辅导员将在 7 天内"]),
])
def test_student_notice_says_what_happens_next(level, expected):
    _, rendered = notice("student", new=level)
    assert "接下来" in rendered.text
    for sentence in expected:
        assert sentence in rendered.text and sentence in rendered.html
    if level != "red":
        assert "辅导员" not in rendered.text


@pytest.mark.parametrize("level", ["orange", "red"])
def test_formal_notice_to_guardian_asks_for_acknowledgement_without_a_fake_link(level):
    spec, rendered = notice("guardian", new=level)
    assert spec.requires_acknowledgement
    assert rendered.subject.startswith("学业预警通知书")
    for body in (rendered.text, rendered.html):
        assert "学业预警通知书" in body and "回执" in body and "请在收到本通知书后回复确认" in body
        assert "http" not in body and "www." not in body
    assert f"{spec.context['follow_up']['parent_contact_days']} 天内与您联系" in rendered.text


def test_yellow_guardian_notice_is_not_formal():
    spec, rendered = notice("guardian", new="yellow")
    assert not spec.requires_acknowledgement
    assert "通知书" not in rendered.text and "回执" not in rendered.text
    assert "14 天内与孩子进行一对一面谈" in rendered.text


def test_downgraded_notice_names_old_and_new_level():
    for who in ("student", "guardian", "head_teacher"):
        _, rendered = notice(who, kind="downgraded", old="red", new="yellow")
        assert "由红色预警调整为黄色预警" in rendered.text
        assert "仍处于黄色预警" in rendered.text


def test_lifted_notice_says_the_warning_is_lifted():
    for who in ("student", "guardian", "head_teacher"):
        _, rendered = notice(who, kind="lifted", old="orange", new="none")
        assert "解除预警" in rendered.subject and "已解除" in rendered.text and "原为橙色预警" in rendered.text
    _, head_teacher = notice("head_teacher", kind="lifted", old="orange", new="none")
    assert "预警已解除" in head_teacher.text and "仍保持开放" in head_teacher.text


def test_staff_notices_say_what_is_expected():
    _, counselor = notice("counselor", new="orange")
    assert "学业预警学生名单" in counselor.text and "14 天内联系家长" in counselor.text
    _, head = notice("department_head", new="red")
    assert head.subject.startswith("【学业预警】机械2101 张三（210301001）")
    assert "机械设计制造及其自动化专业" in head.text


def test_covering_staff_is_told_why_they_receive_the_notice():
    people = People(**{**vars(PEOPLE), "department_head_id": None})
    spec, rendered = notice("vice_dean", new="red", people=people)
    assert rendered.text.startswith("尊敬的教学副院长：")
    assert "系主任暂缺" in rendered.text and "系主任暂缺" in rendered.html


@pytest.mark.parametrize("recipient_kind", ["student", "guardian"])
def test_a_notice_never_carries_another_students_data(recipient_kind):
    # Render another student's notice first, with the same shared environment: nothing may leak across.
    notice(recipient_kind, people=OTHER, student_id="210301007")
    _, mine = notice(recipient_kind, new="red")
    for body in (mine.subject, mine.text, mine.html):
        assert "210301007" not in body and "李四" not in body and "机械2102" not in body


def test_html_escapes_uploaded_text_and_plain_text_keeps_it():
    reasons = [{**REASONS[0], "courses": [{"course_code": "X<1>", "course_name": "C&C++ <b>程序设计</b>",
                                            "credits": 3.0, "result": "40"}]}]
    people = People(**{**vars(PEOPLE), "student_name": "<script>x</script>"})
    _, rendered = notice("guardian", people=people, new="orange", reasons=reasons)
    assert "C&C++ <b>程序设计</b>" in rendered.text and "<script>x</script>" in rendered.text
    assert "C&amp;C++ &lt;b&gt;程序设计&lt;/b&gt;" in rendered.html and "X&lt;1&gt;" in rendered.html
    assert "<script>" not in rendered.html


def test_a_plugin_rule_without_a_chinese_name_shows_its_key():
    reasons = [{"rule": "attendance_absences", "level": "yellow", "measure": 12.0, "threshold": 10.0,
                "comparison": ">=", "courses": []}]
    _, rendered = notice("student", new="yellow", reasons=reasons)
    assert "attendance_absences：12（黄色预警条件：不少于 10）" in rendered.text


def test_an_unknown_locale_falls_back_to_chinese():
    spec = notices_for_warning_change(change(), PEOPLE)[0]
    assert render(spec, locale="fr") == render(spec) == render(spec, locale="zh-CN")


def test_course_flag_notice_to_the_department_head():
    flag = {"semester": "2022-2023-1", "course_code": "MATH01", "course_name": "高等数学", "teacher": "杨英",
            "offering_college": "", "external": False, "majors": ["机械设计制造及其自动化"], "rate": 0.25,
            "failed": 10, "total": 40, "threshold": 0.15, "previous_rate": 0.3, "previous_semester": "2021-2022-1",
            "change": "flagged"}
    [spec] = notices_for_course_flag(flag, People(department_head_id="D0301", vice_dean_id="V0001"))
    rendered = render(spec)
    assert rendered.subject == "【课程不及格率预警】2022-2023学年第一学期 MATH01 高等数学（杨英）不及格率 25%"
    assert "不及格率为 25%（10/40 人），超过了 15% 的警戒线" in rendered.text
    assert "上一次开课（2021-2022学年第一学期）的不及格率为 30%" in rendered.text
    assert "28 天内完成总结分析" in rendered.text and "本学院开设" in rendered.text


def test_external_course_flag_asks_the_vice_dean_to_raise_it_with_the_other_college():
    flag = {"semester": "2022-2023-2", "course_code": "ENG02", "course_name": "大学英语", "teacher": "沈强建",
            "offering_college": "外国语学院", "external": True, "majors": ["电气工程及其自动化"], "rate": 0.2,
            "failed": 8, "total": 40, "threshold": 0.15, "previous_rate": None, "previous_semester": None,
            "change": "flagged"}
    [spec] = notices_for_course_flag(flag, People(department_head_id="D0302", vice_dean_id="V0001"))
    rendered = render(spec)
    assert rendered.text.startswith("尊敬的教学副院长：")
    assert "请与外国语学院沟通" in rendered.text and "上一次开课" not in rendered.text


def test_number_formats():
    assert (number(5.0), number(2.5), number(1.666666)) == ("5", "2.5", "1.67")
    assert (measure(1.7666, "gpa"), measure(2.0, "gpa"), measure(16.0, "unresolved_failed_credits")) == (
        "1.77", "2.00", "16")
    assert (percent(0.15), percent(0.2345), percent(None)) == ("15%", "23.4%", "")
