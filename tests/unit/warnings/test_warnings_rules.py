"""policy.md §4: the default rules' thresholds and reasons; rules are plugins found by entry point."""
import pytest

from contracts.events import ReasonSchema
from services.warnings.domain.measures import semester_views
from services.warnings.domain.model import GradeRecord
from services.warnings.domain.policy import load_default_policy
from services.warnings.domain.rules import GROUP, Rule, available_rules, load_rule
from services.warnings.domain.rules.gpa import Gpa
from services.warnings.domain.rules.semester_failed_credits import SemesterFailedCredits
from services.warnings.domain.rules.unresolved_failed_credits import UnresolvedFailedCredits

S1, S2 = "2021-2022-1", "2021-2022-2"


def rec(semester, course, score, *, exam="regular", credits=1.0, ctype="required"):
    return GradeRecord("s1", semester, course, f"课程{course}", credits, ctype, exam, str(score))


def view(*records, semester=S1):
    return {v.semester: v for v in semester_views(records)}[semester]


def failed(credits, semester=S1, score="50"):
    """One failed required course of the given credits, sat in ``semester``."""
    return rec(semester, f"F{credits}", score, credits=credits)


@pytest.fixture(scope="module")
def rules():
    return {rule.name: rule for rule in load_default_policy().rules}


@pytest.mark.parametrize("credits, level", [(9.5, None), (10, "yellow"), (14.5, "yellow"), (15, "orange"),
                                            (24.5, "orange"), (25, "red"), (40, "red")])
def test_unresolved_failed_credits_thresholds(rules, credits, level):
    # Failed in S1 (make-up failed too), looked at from S2 so the semester rule plays no part.
    v = view(failed(credits), rec(S2, "OK", "80"), semester=S2)
    verdict = rules["unresolved_failed_credits"].judge(v)
    assert (verdict.level if verdict else None) == level


@pytest.mark.parametrize("credits, level", [(7.5, None), (8, "yellow"), (11.5, "yellow"), (12, "orange"),
                                            (30, "orange")])
def test_semester_failed_credits_thresholds(rules, credits, level):
    verdict = rules["semester_failed_credits"].judge(view(failed(credits)))
    assert (verdict.level if verdict else None) == level


def gpa_view(score, credits=20.0):
    return view(rec(S1, "A", score, credits=credits), rec(S1, "B", "合格", credits=10))


@pytest.mark.parametrize("score, level", [("70", None), ("69.9", "yellow"), ("68", "yellow"),
                                          ("67.9", "orange"), ("30", "orange")])
def test_gpa_thresholds(rules, score, level):
    verdict = rules["gpa"].judge(gpa_view(score))
    assert (verdict.level if verdict else None) == level


def test_gpa_is_judged_only_with_at_least_20_graded_credits(rules):
    assert rules["gpa"].judge(gpa_view("30", credits=19.5)) is None     # 合格 credits do not count
    assert rules["gpa"].judge(gpa_view("30", credits=20)).level == "orange"


def test_a_reason_says_exactly_why(rules):
    v = view(rec(S1, "B", "缺考", credits=3), rec(S1, "A", "40", credits=6), rec(S1, "A", "55", exam="makeup", credits=6),
             rec(S1, "C", "65", credits=12, ctype="elective"))
    reason = rules["semester_failed_credits"].judge(v).reason
    assert reason == {
        "rule": "semester_failed_credits", "level": "yellow", "measure": 9.0, "threshold": 8.0,
        "comparison": ">=",
        "courses": [{"course_code": "A", "course_name": "课程A", "credits": 6.0, "result": "55"},
                    {"course_code": "B", "course_name": "课程B", "credits": 3.0, "result": "缺考"}],
    }
    gpa = rules["gpa"].judge(v).reason
    assert gpa["comparison"] == "<" and gpa["level"] == "orange" and gpa["threshold"] == 1.8
    assert gpa["measure"] == pytest.approx((0 * 3 + 0 * 6 + 1.5 * 12) / 21)
    assert [c["course_code"] for c in gpa["courses"]] == ["A", "B", "C"]
    assert ReasonSchema().validate(reason) == {} and ReasonSchema().validate(gpa) == {}


def test_rule_plugins_are_found_by_entry_point():
    found = available_rules()
    assert {"unresolved_failed_credits", "semester_failed_credits", "gpa"} <= set(found)
    assert all(ep.group == GROUP for ep in found.values())
    assert load_rule("unresolved_failed_credits") is UnresolvedFailedCredits
    assert load_rule("semester_failed_credits") is SemesterFailedCredits
    assert load_rule("gpa") is Gpa
    assert all(issubclass(load_rule(name), Rule) for name in found)
    with pytest.raises(KeyError):
        load_rule("no_such_rule")


def test_rule_options_change_what_is_counted():
    rule = UnresolvedFailedCredits("unresolved_failed_credits", {"yellow": 1}, course_types=["elective"])
    v = view(rec(S1, "A", "50", credits=4), rec(S1, "B", "50", credits=2, ctype="elective"))
    assert rule.judge(v).reason["measure"] == 2
    lenient = Gpa("gpa", {"yellow": 2.0}, min_graded_credits=0)
    assert lenient.judge(v).level == "yellow"
