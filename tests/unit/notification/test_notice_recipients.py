"""policy.md §6 as data: who is told of each warning change and course flag; vacant roles."""
import pytest

from services.notification.domain import recipients
from services.notification.domain.recipients import (
    COURSE_REVIEW_DAYS, FOLLOW_UP, People, flag_cause, flag_major, notices_for_course_flag,
    notices_for_warning_change,
)

PEOPLE = People(student_id="210301001", student_name="张三", class_name="机械2101", major="机械设计制造及其自动化",
                head_teacher_id="T1001", counselor_id="C2021", department_head_id="D0301", vice_dean_id="V0001")


def change(kind="issued", old="none", new="yellow", escalated=False, change_id="chg-1", student_id="210301001"):
    reasons = [] if new == "none" else [
        {"rule": "unresolved_failed_credits", "level": new, "measure": 16.0, "threshold": 15.0, "comparison": ">=",
         "courses": [{"course_code": "MATH01", "course_name": "高等数学", "credits": 5.0, "result": "45"}]}]
    return {"change_id": change_id, "student_id": student_id, "semester": "2023-2024-1", "kind": kind,
            "old_level": old, "new_level": new, "escalated": escalated, "reasons": reasons,
            "policy_version": "default-1"}


def told(specs):
    return [(s.recipient_kind, s.recipient_id, s.template, s.requires_acknowledgement) for s in specs]


def test_yellow_student_and_guardian():
    specs = notices_for_warning_change(change(new="yellow"), PEOPLE)
    assert told(specs) == [("student", "210301001", "warning_student", False),
                           ("guardian", "guardian:210301001", "warning_guardian", False)]
    assert {s.kind for s in specs} == {"warning_issued"}


def test_orange_formal_notice_to_guardian_and_notice_to_counselor():
    specs = notices_for_warning_change(change(new="orange"), PEOPLE)
    assert told(specs) == [("student", "210301001", "warning_student", False),
                           ("guardian", "guardian:210301001", "warning_formal", True),
                           ("counselor", "C2021", "warning_staff", False)]
    assert [s.kind for s in specs] == ["warning_issued", "warning_formal", "warning_issued"]


def test_red_formal_notice_to_guardian_and_notice_to_department_head():
    specs = notices_for_warning_change(change(new="red"), PEOPLE)
    assert told(specs) == [("student", "210301001", "warning_student", False),
                           ("guardian", "guardian:210301001", "warning_formal", True),
                           ("department_head", "D0301", "warning_staff", False)]


@pytest.mark.parametrize("old,new", [("yellow", "orange"), ("yellow", "red"), ("orange", "red")])
def test_escalated_is_told_like_the_level_reached(old, new):
    escalated = notices_for_warning_change(change(kind="escalated", old=old, new=new), PEOPLE)
    issued = notices_for_warning_change(change(kind="issued", new=new), PEOPLE)
    assert told(escalated) == told(issued)
    assert [s.kind for s in escalated if not s.requires_acknowledgement] == ["warning_escalated"] * 2


@pytest.mark.parametrize("old,new", [("red", "orange"), ("red", "yellow"), ("orange", "yellow")])
def test_downgraded_told_to_student_guardian_and_head_teacher_never_formal(old, new):
    specs = notices_for_warning_change(change(kind="downgraded", old=old, new=new), PEOPLE)
    assert told(specs) == [("student", "210301001", "warning_student", False),
                           ("guardian", "guardian:210301001", "warning_guardian", False),
                           ("head_teacher", "T1001", "warning_staff", False)]
    assert {s.kind for s in specs} == {"warning_downgraded"}


@pytest.mark.parametrize("old", ["yellow", "orange", "red"])
def test_lifted_told_to_student_guardian_and_head_teacher(old):
    specs = notices_for_warning_change(change(kind="lifted", old=old, new="none"), PEOPLE)
    assert told(specs) == [("student", "210301001", "warning_lifted", False),
                           ("guardian", "guardian:210301001", "warning_lifted", False),
                           ("head_teacher", "T1001", "warning_lifted", False)]
    assert {s.kind for s in specs} == {"warning_lifted"}
    assert all(s.context["follow_up"] is None for s in specs)


def test_every_notice_names_the_change_as_its_cause():
    for kind, old, new in [("issued", "none", "red"), ("lifted", "red", "none"), ("downgraded", "red", "yellow")]:
        specs = notices_for_warning_change(change(kind=kind, old=old, new=new, change_id="w-42"), PEOPLE)
        assert {s.cause for s in specs} == {"w-42"}


def test_follow_up_of_the_level_reached_travels_in_the_context():
    spec = notices_for_warning_change(change(new="red"), PEOPLE)[0]
    assert spec.context["follow_up"] == {"talk_days": 7, "parent_contact_days": 7, "counselor_talk_days": 7}
    assert FOLLOW_UP["yellow"].talk_days == 14 and FOLLOW_UP["orange"].parent_contact_days == 14


def test_missing_department_head_falls_back_to_the_vice_dean():
    people = People(**{**vars(PEOPLE), "department_head_id": None})
    staff = notices_for_warning_change(change(new="red"), people)[-1]
    assert (staff.recipient_kind, staff.recipient_id) == ("vice_dean", "V0001")
    assert staff.context["covering_for"] == "department_head"


def test_missing_head_teacher_falls_back_to_the_counselor():
    people = People(**{**vars(PEOPLE), "head_teacher_id": None})
    staff = notices_for_warning_change(change(kind="lifted", old="yellow", new="none"), people)[-1]
    assert (staff.recipient_kind, staff.recipient_id, staff.context["covering_for"]) == ("counselor", "C2021",
                                                                                           "head_teacher")


def test_missing_counselor_falls_back_to_the_vice_dean():
    people = People(**{**vars(PEOPLE), "counselor_id": None})
    staff = notices_for_warning_change(change(new="orange"), people)[-1]
    assert (staff.recipient_kind, staff.recipient_id) == ("vice_dean", "V0001")


def test_nobody_in_the_role_nor_above_leaves_only_student_and_guardian():
    people = People(student_id="210301001")
    specs = notices_for_warning_change(change(new="red"), people)
    assert [s.recipient_kind for s in specs] == ["student", "guardian"]


def test_the_change_not_the_roster_says_whose_warning_it_is():
    specs = notices_for_warning_change(change(student_id="0210001"), People(head_teacher_id="T1"))
    assert [s.recipient_id for s in specs] == ["0210001", "guardian:0210001"]
    assert specs[1].context["student"]["id"] == "0210001"


def test_one_notice_per_recipient_when_one_person_is_told_twice(monkeypatch):
    # A college that also tells the counselor of a lift: with no head teacher, the counselor covers — once.
    monkeypatch.setattr(recipients, "TOLD_OF_LIFT", recipients.TOLD_OF_LIFT + (
        recipients.Tell(recipients.COUNSELOR, "warning_lifted"),))
    people = People(**{**vars(PEOPLE), "head_teacher_id": None})
    specs = notices_for_warning_change(change(kind="lifted", old="yellow", new="none"), people)
    assert [s.recipient_id for s in specs] == ["210301001", "guardian:210301001", "C2021"]


def test_unknown_change_kind_is_an_error():
    with pytest.raises(ValueError):
        notices_for_warning_change(change(kind="renamed"), PEOPLE)


def test_guardian_context_carries_only_this_students_data():
    guardian = notices_for_warning_change(change(new="orange"), PEOPLE)[1]
    assert guardian.context["student"] == {"id": "210301001", "name": "张三", "class_name": "机械2101",
                                           "major": "机械设计制造及其自动化"}
    # No staff ids either: the parent needs to know what happens, not who holds which role in the roster.
    assert not any(staff in repr(guardian.context) for staff in ("T1001", "C2021", "D0301", "V0001"))


# --- course flags ---------------------------------------------------------------------------------------------

def flag(change="flagged", external=False, majors=("机械设计制造及其自动化", "电气工程及其自动化")):
    return {"semester": "2022-2023-1", "course_code": "MATH01", "course_name": "高等数学", "teacher": "杨英",
            "offering_college": "数学学院" if external else "", "external": external, "majors": list(majors),
            "rate": 0.25, "failed": 10, "total": 40, "threshold": 0.15, "previous_rate": None,
            "previous_semester": None, "change": change}


def test_flag_goes_to_the_department_head_of_the_first_major():
    assert flag_major(flag()) == "机械设计制造及其自动化"
    [spec] = notices_for_course_flag(flag(), People(major="机械设计制造及其自动化", department_head_id="D0301",
                                                    vice_dean_id="V0001"))
    assert (spec.kind, spec.recipient_kind, spec.recipient_id, spec.template) == (
        "course_flagged", "department_head", "D0301", "course_flagged")
    assert spec.cause == flag_cause(flag()) == "flag:2022-2023-1:MATH01:杨英"
    assert spec.context["review_days"] == COURSE_REVIEW_DAYS == 28
    assert not spec.requires_acknowledgement


def test_external_flag_goes_to_the_vice_dean():
    [spec] = notices_for_course_flag(flag(external=True), People(department_head_id="D0301", vice_dean_id="V0001"))
    assert (spec.recipient_kind, spec.recipient_id, spec.context["covering_for"]) == ("vice_dean", "V0001", None)


def test_flag_without_department_head_or_major_goes_to_the_vice_dean():
    [vacant] = notices_for_course_flag(flag(), People(vice_dean_id="V0001"))
    assert (vacant.recipient_id, vacant.context["covering_for"]) == ("V0001", "department_head")
    [no_major] = notices_for_course_flag(flag(majors=()), People(department_head_id="D0301", vice_dean_id="V0001"))
    assert no_major.recipient_id == "V0001"


@pytest.mark.parametrize("kind", ["updated", "unflagged"])
def test_only_new_flags_are_told(kind):
    assert notices_for_course_flag(flag(change=kind), People(department_head_id="D0301")) == []


# --- routes (which channels, with which fallbacks) are in test_notice_routing.py ----------------------------------
