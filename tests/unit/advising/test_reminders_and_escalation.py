"""duties.md: reminders before the due date and when overdue; escalation after a grace period."""
from datetime import date, timedelta

import pytest

from services.advising.domain.reminders import ReminderSettings, escalation_target, reminders_due

DUE = date(2024, 10, 15)
SETTINGS = ReminderSettings(days_before=3, overdue_repeat_days=7, grace_days=7)
OFFICERS = {"counselor_by_cohort": {"2024": "C2024"}, "department_head_by_major": {"机械": "D机械"},
            "vice_dean_id": "V0001"}


def task(status="open", escalated_at=None, holder="head_teacher_id", assignee="T1010", **extra):
    return {"task_id": "T-1", "kind": "talk", "status": status, "due": DUE, "escalated_at": escalated_at,
            "holder_role": holder, "duty_role": holder, "assignee": assignee, "cohort": "2024", "major": "机械",
            **extra}


def on(days_from_due, **kwargs):
    return [(r.reminder, r.key, r.overdue_days)
            for r in reminders_due([task(**kwargs)], DUE + timedelta(days=days_from_due), SETTINGS)]


def test_nothing_before_the_reminder_window():
    assert on(-4) == []


@pytest.mark.parametrize("days", [-3, -1, 0])
def test_due_soon_from_three_days_before_until_the_due_date_with_one_key(days):
    assert on(days) == [("due_soon", "T-1:due_soon", days)]


def test_overdue_the_day_after_then_once_per_repeat_period():
    assert on(1) == [("overdue", "T-1:overdue:0", 1)]
    assert on(6)[0][1] == "T-1:overdue:0"          # same period: the same key, sent once
    assert on(8)[0][1] == "T-1:overdue:1"
    assert on(15)[0][1] == "T-1:overdue:2"


def test_escalation_after_the_grace_period_once():
    assert [r for r, *_ in on(6)] == ["overdue"]
    assert on(7) == [("overdue", "T-1:overdue:0", 7), ("escalated", "T-1:escalated", 7)]
    assert [r for r, *_ in on(20, escalated_at="2024-10-22")] == ["overdue"]


def test_a_zero_grace_period_escalates_the_first_overdue_day():
    found = reminders_due([task()], DUE + timedelta(days=1), ReminderSettings(grace_days=0))
    assert [r.reminder for r in found] == ["overdue", "escalated"]


def test_done_tasks_are_never_reminded_and_a_submitted_review_still_is():
    assert on(3, status="done") == []
    assert on(3, status="submitted")[0][0] == "overdue"


def test_settings_are_checked():
    with pytest.raises(ValueError):
        ReminderSettings(overdue_repeat_days=0)


@pytest.mark.parametrize("holder, expected", [
    ("head_teacher_id", ("C2024", "counselor_id")),
    ("counselor_id", ("D机械", "department_head_id")),
    ("department_head_id", ("V0001", "vice_dean_id")),
    ("teacher_id", ("D机械", "department_head_id")),
    ("vice_dean_id", None),
])
def test_escalation_goes_to_the_holders_superior(holder, expected):
    assert escalation_target(task(holder=holder), OFFICERS) == expected


def test_escalation_skips_a_vacant_superior_and_the_holder_himself():
    assert escalation_target(task(cohort="2019"), OFFICERS) == ("D机械", "department_head_id")
    # a counselor covering a head teacher's duty: the counselor is not told about his own task
    covering = task(holder="counselor_id", assignee="C2024")
    assert escalation_target(covering, OFFICERS) == ("D机械", "department_head_id")
    assert escalation_target(task(holder="department_head_id", assignee="V0001"), OFFICERS) is None
