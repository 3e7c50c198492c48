"""退学警示 (dismissal risk), the level above red that only the escalation-chain rules give: who is told, what the
notice says, and that its tasks are urgent like red ones."""
from services.notification.domain.recipients import FOLLOW_UP, People, notices_for_warning_change
from services.notification.domain.rendering import render
from services.notification.domain.tasks import is_urgent_change

PEOPLE = People(student_id="210301001", student_name="张三", class_name="机械2101", major="机械设计制造及其自动化",
                head_teacher_id="T1001", counselor_id="C2021", department_head_id="D0301", vice_dean_id="V0001")
CHAIN = [{"rule": "gpa", "level": "orange", "measure": 1.7, "threshold": 1.8, "comparison": "<", "courses": []},
         {"rule": "consecutive_warnings", "level": "dismissal", "measure": 2.0, "threshold": 2.0, "comparison": ">=",
          "courses": []}]


def change(kind="escalated", old="red", new="dismissal"):
    return {"change_id": "chg-1", "student_id": "210301001", "semester": "2023-2024-2", "kind": kind,
            "old_level": old, "new_level": new, "escalated": True, "reasons": CHAIN if new != "none" else [],
            "policy_version": "with-dismissal-1"}


def test_everyone_told_of_red_is_told_and_the_vice_dean_too():
    told = [(s.recipient_kind, s.recipient_id, s.template, s.requires_acknowledgement)
            for s in notices_for_warning_change(change(), PEOPLE)]
    red = [(s.recipient_kind, s.recipient_id) for s in notices_for_warning_change(change(old="orange", new="red"),
                                                                                  PEOPLE)]
    assert set(red) <= {(kind, rid) for kind, rid, _, _ in told}
    assert told == [("student", "210301001", "warning_student", False),
                    ("guardian", "guardian:210301001", "warning_formal", True),
                    ("department_head", "D0301", "warning_staff", False),
                    ("vice_dean", "V0001", "warning_staff", False)]


def test_follow_up_is_at_least_what_red_asks():
    dismissal, red = FOLLOW_UP["dismissal"], FOLLOW_UP["red"]
    assert dismissal.talk_days <= red.talk_days and dismissal.parent_contact_days <= red.parent_contact_days
    assert dismissal.counselor_talk_days <= red.counselor_talk_days


def test_its_tasks_are_urgent_like_red_ones():
    assert is_urgent_change(change()) and is_urgent_change(change(kind="issued", old="none"))
    assert is_urgent_change(change(old="orange", new="red"))
    assert not is_urgent_change(change(old="orange", new="yellow", kind="downgraded"))
    assert not is_urgent_change(change(old="dismissal", new="red", kind="downgraded"))


def test_the_notices_name_the_level_and_the_chain_in_both_languages():
    specs = {s.recipient_kind: s for s in notices_for_warning_change(change(), PEOPLE)}
    student = render(specs["student"])
    assert "由红色预警提高为退学警示级预警" in student.text
    assert "连续预警学期数：2 个学期（退学警示级预警条件：不少于 2 个学期）" in student.text
    formal = render(specs["guardian"], "en")
    assert "dismissal-risk academic warning" in formal.text
    assert "Semesters warned in a row: 2 semesters (dismissal-risk warning when at least 2 semesters)" in formal.text
    dean = render(specs["vice_dean"])
    assert "教学副院长" in dean.text and "退学警示级" in dean.text
