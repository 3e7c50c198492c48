"""duties.md: the recurring duties of a semester, from a configurable calendar and the roster."""
from collections import Counter
from datetime import date

import pytest

from services.advising.domain.calendar import (CalendarError, load_calendar, parse_calendar, semester_dates,
                                               semesters_to_open)
from services.advising.domain.duties import (CLASS_MEETING, COUNSELOR_MEETING, OBSERVATION, PEER_TUTORING,
                                             REVIEW_MEETING, STUDY_PLAN)
from services.advising.domain.semester import classes_from, semester_tasks

CALENDAR = {"semesters": {"2024-2025-1": {"start": date(2024, 9, 2), "weeks": 18},
                          "2024-2025-2": {"start": "2025-02-24"},
                          "2024-2025-3": {"start": "2025-07-07", "weeks": 6}}}

CLASSES = [
    {"class_name": "机械2401", "major": "机械", "cohort": 2024, "head_teacher_id": "T1010", "enrolled": 30},
    {"class_name": "电气2401", "major": "电气", "cohort": 2024, "head_teacher_id": "T1011", "enrolled": 28},
    {"class_name": "机械2301", "major": "机械", "cohort": 2023, "head_teacher_id": "T1007", "enrolled": 31},
    {"class_name": "机械2001", "major": "机械", "cohort": 2020, "head_teacher_id": "T0001", "enrolled": 0},
]
OFFICERS = {"counselor_by_cohort": {"2024": "C2024", "2023": "C2023"},
            "department_head_by_major": {"机械": "D机械", "电气": "D电气"}, "vice_dean_id": "V0001"}


def test_calendar_reads_start_dates_and_weeks():
    calendar = parse_calendar(CALENDAR)
    autumn = calendar["2024-2025-1"]
    assert (autumn.start, autumn.weeks, autumn.end) == (date(2024, 9, 2), 18, date(2025, 1, 5))
    assert autumn.week_end(1) == date(2024, 9, 8) and autumn.week_end(40) == autumn.end
    assert calendar["2024-2025-2"].weeks == 18


@pytest.mark.parametrize("bad, words", [
    ({"semesters": {"2024-2026-1": {"start": "2024-09-02"}}}, "consecutive"),
    ({"semesters": {"2024-2025-1": {"weeks": 18}}}, "start"),
    ({"semesters": {"2024-2025-1": {"start": "2nd of Sept"}}}, "not a date"),
    ({"semesters": {"2024-2025-1": {"start": "2024-09-02", "weeks": 0}}}, "weeks"),
    ({"semesters": {"2024-2025-1": {"start": "2024-09-02"}, "2024-2025-2": {"start": "2024-12-02"}}}, "before"),
    ({"semesters": ["2024-2025-1"]}, "mapping"),
])
def test_a_bad_calendar_names_the_problem(bad, words):
    with pytest.raises(CalendarError, match=words):
        parse_calendar(bad)


def test_calendar_file_is_opt_in(tmp_path):
    assert load_calendar(None) == {} and load_calendar("") == {}
    path = tmp_path / "calendar.yml"
    path.write_text("semesters:\n  2024-2025-1: {start: 2024-09-02, weeks: 18}\n", encoding="utf-8")
    assert load_calendar(path)["2024-2025-1"].start == date(2024, 9, 2)
    with pytest.raises(CalendarError, match="cannot read"):
        load_calendar(tmp_path / "missing.yml")


def test_the_clock_opens_the_running_semester_once_and_never_a_past_one():
    calendar = parse_calendar(CALENDAR)
    assert semesters_to_open(calendar, date(2024, 8, 31), []) == []
    assert [d.semester for d in semesters_to_open(calendar, date(2024, 9, 2), [])] == ["2024-2025-1"]
    assert semesters_to_open(calendar, date(2024, 9, 3), ["2024-2025-1"]) == []
    # a gap between semesters, and a calendar listing a semester long over: nothing
    assert semesters_to_open(calendar, date(2025, 2, 1), []) == []
    assert [d.semester for d in semesters_to_open(calendar, date(2025, 3, 1), [])] == ["2024-2025-2"]


def test_semester_duties_for_every_class_cohort_and_major_with_the_policy_numbers():
    specs, problems = semester_tasks(semester_dates("2024-2025-1", "2024-09-02"), classes_from(CLASSES), OFFICERS)
    assert problems == []
    count = Counter((s.kind, s.assignee) for s in specs)
    for teacher in ("T1010", "T1011", "T1007"):
        assert count[(CLASS_MEETING, teacher)] == 3 and count[(OBSERVATION, teacher)] == 3
        assert count[(STUDY_PLAN, teacher)] == 1
    assert count[(COUNSELOR_MEETING, "C2024")] == 2 and count[(COUNSELOR_MEETING, "C2023")] == 2
    assert count[(PEER_TUTORING, "C2024")] == 2
    assert count[(REVIEW_MEETING, "D机械")] == 1 and count[(REVIEW_MEETING, "D电气")] == 1
    assert not any(s.assignee == "T0001" for s in specs)          # a class without students has no duties
    assert len({s.cause for s in specs}) == len(specs)


def test_due_dates_are_ends_of_teaching_weeks_and_tasks_carry_their_scope():
    specs, _ = semester_tasks(semester_dates("2024-2025-1", "2024-09-02"), classes_from(CLASSES[:1]), OFFICERS)
    meetings = sorted((s for s in specs if s.kind == CLASS_MEETING), key=lambda s: s.due)
    assert [s.due for s in meetings] == [date(2024, 10, 13), date(2024, 11, 17), date(2024, 12, 22)]
    assert meetings[0].cause == "class_meeting:2024-2025-1:机械2401:1"
    assert (meetings[0].class_name, meetings[0].major, meetings[0].cohort) == ("机械2401", "机械", "2024")
    assert (meetings[0].duty_role, meetings[0].holder_role) == ("head_teacher_id", "head_teacher_id")
    [review] = [s for s in specs if s.kind == REVIEW_MEETING]
    assert review.due == date(2024, 9, 15) and review.major == "机械" and review.class_name is None


def test_vacant_roles_fall_to_the_next_responsible_and_nobody_at_all_is_reported():
    classes = classes_from([{**CLASSES[0], "head_teacher_id": None}])
    specs, problems = semester_tasks(semester_dates("2024-2025-1", "2024-09-02"), classes,
                                     {"counselor_by_cohort": {}, "department_head_by_major": {}, "vice_dean_id": None})
    assert specs == [] and len(problems) == 6 and "nobody holds" in problems[0]
    specs, _ = semester_tasks(semester_dates("2024-2025-1", "2024-09-02"), classes, OFFICERS)
    meeting = next(s for s in specs if s.kind == CLASS_MEETING)
    assert meeting.assignee == "C2024" and meeting.detail["covering_for"] == "head_teacher_id"


def test_a_summer_term_has_no_handbook_duties():
    specs, _ = semester_tasks(semester_dates("2024-2025-3", "2025-07-07", 6), classes_from(CLASSES), OFFICERS)
    assert specs == []
