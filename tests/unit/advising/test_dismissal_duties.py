"""退学警示 (dismissal risk): at least everything a red warning asks of staff, by the same dates."""
from datetime import date, datetime

from services.advising.domain.duties import COUNSELOR_TALK, PARENT_CONTACT, TALK, WARNING_DUTIES
from services.advising.domain.tasks import Responsibles, tasks_for_warning_change
from shared.academic.vocabulary import LEVELS

AT = datetime(2024, 3, 1, 9, 30)
PEOPLE = Responsibles("s1", "机械2101", "机械设计制造及其自动化", 2021,
                      head_teacher_id="T1001", counselor_id="C2021", department_head_id="D机械",
                      vice_dean_id="V0001")


def change(kind="escalated", old="red", new="dismissal"):
    return {"change_id": "chg-9", "student_id": "s1", "semester": "2023-2024-2", "kind": kind, "old_level": old,
            "new_level": new, "escalated": True, "policy_version": "with-dismissal-1",
            "reasons": [{"rule": "cumulative_warnings", "level": new, "measure": 3.0, "threshold": 3.0,
                         "comparison": ">=", "courses": []}]}


def test_every_level_has_duties():
    assert set(WARNING_DUTIES) == set(LEVELS)


def test_dismissal_risk_asks_the_talks_and_parent_contact_within_7_days():
    tasks = tasks_for_warning_change(change(), PEOPLE, AT)
    assert [(t.kind, t.assignee, t.due) for t in tasks] == [
        (TALK, "T1001", date(2024, 3, 8)), (PARENT_CONTACT, "T1001", date(2024, 3, 8)),
        (COUNSELOR_TALK, "C2021", date(2024, 3, 8))]
    assert tasks[0].detail["level"] == "dismissal" and tasks[0].detail["rules"] == ["cumulative_warnings"]


def test_nothing_red_asks_is_missing_or_later():
    red = {duty.kind: duty for duty in WARNING_DUTIES["red"]}
    dismissal = {duty.kind: duty for duty in WARNING_DUTIES["dismissal"]}
    assert set(red) <= set(dismissal)
    assert all(dismissal[kind].days <= red[kind].days and dismissal[kind].role == red[kind].role for kind in red)
