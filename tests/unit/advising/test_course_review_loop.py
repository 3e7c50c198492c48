"""duties.md: a flagged course's review in two steps, then the check at the course's next offering."""
import pytest

from services.advising.domain.reviews import ReviewStepRefused, decide, review_check, submit, updated_rate

REVIEW = {"task_id": "T-r", "kind": "course_review", "assignee": "D机械", "status": "open",
          "course_code": "AQ01", "semester": "2024-2025-1", "cause": "course_review:2024-2025-1:AQ01:王老师",
          "detail": {"rate": 0.5, "failed": 5, "total": 10, "teacher": "王老师", "course_name": "数据结构"},
          "outcome": None}


def flag(semester="2024-2025-2", rate=0.3, teacher="王老师", change="flagged", failed=3, total=10):
    return {"semester": semester, "course_code": "AQ01", "teacher": teacher, "rate": rate, "failed": failed,
            "total": total, "change": change}


def test_submitted_by_the_teacher_then_approved_or_returned_by_the_department_head():
    assert submit(REVIEW, "T-teacher") == "submitted"
    submitted = {**REVIEW, "status": "submitted"}
    assert decide(submitted, "D机械", "approve") == "done"
    assert decide(submitted, "D机械", "return") == "open"


@pytest.mark.parametrize("review, reviewer", [({**REVIEW, "status": "submitted"}, "D电气"),   # not the reviewer
                                              (REVIEW, "D机械")])                            # nothing submitted
def test_only_the_department_head_reviews_and_only_what_was_submitted(review, reviewer):
    with pytest.raises(ReviewStepRefused):
        decide(review, reviewer, "approve")


def test_a_review_is_not_submitted_twice():
    with pytest.raises(ReviewStepRefused):
        submit({**REVIEW, "status": "submitted"}, "T-teacher")


def test_the_next_offering_shows_whether_the_rate_fell():
    check = review_check(REVIEW, flag())
    assert check["text"] == "50.0% → 30.0% (fell)"
    assert (check["fell"], check["same_teacher"], check["semester_now"]) == (True, True, "2024-2025-2")
    assert review_check(REVIEW, flag(rate=0.6))["fell"] is False


def test_the_same_offering_or_an_earlier_one_or_another_course_is_no_check():
    assert review_check(REVIEW, flag(semester="2024-2025-1")) is None
    assert review_check(REVIEW, flag(semester="2023-2024-2")) is None
    assert review_check(REVIEW, {**flag(), "course_code": "AQ02"}) is None


def test_the_check_is_made_at_the_next_offering_only_preferring_the_same_teacher():
    checked = {**REVIEW, "outcome": review_check(REVIEW, flag(teacher="李老师", rate=0.4))}
    assert checked["outcome"]["same_teacher"] is False
    same = review_check(checked, flag(rate=0.2))                          # same semester, the same teacher: wins
    assert same["same_teacher"] and same["rate_now"] == 0.2
    checked = {**REVIEW, "outcome": same}
    assert review_check(checked, flag(teacher="李老师", rate=0.4)) is None
    assert review_check(checked, flag(semester="2025-2026-1", rate=0.1)) is None   # a later offering: no
    late = review_check({**REVIEW, "outcome": review_check(REVIEW, flag(semester="2025-2026-1"))}, flag())
    assert late["semester_now"] == "2024-2025-2"                           # an earlier one arriving late: yes


def test_the_reviewed_offering_keeps_its_latest_rate():
    corrected = updated_rate(REVIEW, flag(semester="2024-2025-1", rate=0.4, failed=4, change="updated"))
    assert (corrected["rate"], corrected["failed"], corrected["flag_change"]) == (0.4, 4, "updated")
    assert updated_rate(REVIEW, flag(semester="2024-2025-1", change="flagged")) is None
    assert updated_rate(REVIEW, flag(change="updated")) is None           # another offering


def test_a_next_offering_that_was_not_flagged_is_known_from_a_later_flag():
    from services.advising.domain.reviews import observations_from_flags
    later = {**flag(semester="2025-2026-2", rate=0.2), "previous_semester": "2025-2026-1", "previous_rate": 0.1,
             "threshold": 0.15}
    own, previous = observations_from_flags([later])
    assert (previous["semester"], previous["rate"], previous["change"]) == ("2025-2026-1", 0.1, "previous")
    check = review_check(REVIEW, previous)
    assert check["text"] == "50.0% → 10.0% (fell)" and check["still_flagged"] is False
    assert check["same_teacher"] is False
    # the later flagged offering is not the next one
    assert review_check({**REVIEW, "outcome": check}, own) is None
    # a flag naming the reviewed offering itself as its previous one gives nothing more
    [_, same] = observations_from_flags([{**flag(), "previous_semester": "2024-2025-1", "previous_rate": 0.5}])
    assert review_check(REVIEW, same) is None
