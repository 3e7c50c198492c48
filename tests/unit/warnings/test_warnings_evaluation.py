"""policy.md §4–§5: levels per semester, escalation, and the changes announced when grades change."""
import random

import pytest

from services.warnings.domain.evaluation import diff_standings, evaluate_student
from services.warnings.domain.model import Change, GradeRecord, Standing
from services.warnings.domain.policy import Policy, load_default_policy

A21, S22, U22, A22, S23, A23 = "2021-2022-1", "2021-2022-2", "2021-2022-3", "2022-2023-1", "2022-2023-2", "2023-2024-1"


def rec(semester, course, score, *, exam="regular", credits=1.0, ctype="required"):
    return GradeRecord("s1", semester, course, f"课程{course}", credits, ctype, exam, str(score))


def semester_policy(escalation=True):
    """Only this semester's failed credits count: 1 credit = yellow, 2 = orange, 3 = red."""
    return Policy.from_dict({"version": "t", "escalation": escalation,
                             "rules": {"semester_failed_credits": {"thresholds": {"yellow": 1, "orange": 2, "red": 3}}}})


def own_level(semester, credits):
    """Records that give ``semester`` the level of ``credits`` failed credits by itself (0 = a pass)."""
    return [rec(semester, f"{semester}-F", "40" if credits else "80", credits=credits or 1)]


def summary(standings):
    return {semester: (s.level, s.escalated) for semester, s in standings.items()}


def test_escalation_chain_and_red_stays_red_with_escalated_true():
    records = own_level(A21, 1) + own_level(S22, 1) + own_level(A22, 2) + own_level(S23, 3) + own_level(A23, 1)
    assert summary(evaluate_student(records, semester_policy())) == {
        A21: ("yellow", False),
        S22: ("orange", True),      # yellow, previous warned: one step up
        A22: ("red", True),         # orange + 1
        S23: ("red", True),         # red stays red, and says escalation applied
        A23: ("orange", True),      # one step from its OWN level (yellow), not from the previous one
    }


def test_no_escalation_after_a_semester_without_warning_or_without_records():
    records = own_level(A21, 1) + own_level(S22, 0) + own_level(A22, 1) + own_level(A23, 1)   # no S23 records
    assert summary(evaluate_student(records, semester_policy())) == {
        A21: ("yellow", False), S22: (None, False), A22: ("yellow", False), A23: ("yellow", False)}


def test_a_warning_without_escalation_when_the_policy_turns_it_off():
    records = own_level(A21, 1) + own_level(S22, 1)
    assert summary(evaluate_student(records, semester_policy(escalation=False))) == {
        A21: ("yellow", False), S22: ("yellow", False)}


def test_summer_terms_never_escalate_and_are_never_previous():
    records = own_level(S22, 1) + own_level(U22, 1) + own_level(A22, 1)
    assert summary(evaluate_student(records, semester_policy())) == {
        S22: ("yellow", False),
        U22: ("yellow", False),     # evaluated like any term, but has no previous semester
        A22: ("orange", True),      # its previous semester is the spring term, not the summer
    }
    only_summer_before = own_level(U22, 1) + own_level(A22, 1)
    assert summary(evaluate_student(only_summer_before, semester_policy()))[A22] == ("yellow", False)


def test_escalation_uses_the_previous_semesters_final_level():
    # A21 yellow; S22 yellow -> orange (escalated); A22 sees S22's final orange, still one step: own yellow -> orange.
    records = own_level(A21, 1) + own_level(S22, 1) + own_level(A22, 1)
    assert summary(evaluate_student(records, semester_policy()))[A22] == ("orange", True)


def test_a_no_result_only_semester_is_evaluated_with_no_warning():
    standings = evaluate_student(own_level(A21, 1) + [rec(S22, "X", "缓考"), rec(S22, "Y", "")], semester_policy())
    assert standings[S22] == Standing(None, False, ())
    assert A22 not in standings


def test_level_is_the_highest_rule_and_every_fired_rule_is_a_reason():
    records = [rec(A21, f"C{i}", "40", credits=4) for i in range(3)] + [rec(A21, "D", "80", credits=8)]
    standing = evaluate_student(records, load_default_policy())[A21]
    assert standing.level == "orange"          # unresolved 12 -> yellow, semester 12 -> orange, GPA 1.6 -> orange
    assert sorted(standing.rules) == ["gpa", "semester_failed_credits", "unresolved_failed_credits"]
    assert {r["rule"]: r["level"] for r in standing.reasons} == {
        "unresolved_failed_credits": "yellow", "semester_failed_credits": "orange", "gpa": "orange"}
    assert not standing.escalated


def test_a_make_up_pass_downgrades_and_a_retake_lifts_only_from_its_semester():
    regular = [rec(A21, f"C{i}", "40", credits=4) for i in range(3)] + [rec(A21, "D", "95", credits=20)]
    policy = load_default_policy()
    first = evaluate_student(regular, policy)
    assert first[A21].level == "orange"
    after_makeup = evaluate_student(regular + [rec(A21, "C0", "60", exam="makeup", credits=4)], policy)
    assert after_makeup[A21].level == "yellow"        # 8 failed credits left
    assert diff_standings("s1", {A21: first[A21].level}, after_makeup) == [
        Change("downgraded", "s1", A21, "orange", "yellow")]
    retake = regular + [rec(S22, f"C{i}", "70", exam="retake", credits=4) for i in range(3)]
    later = evaluate_student(retake, policy)
    assert later[A21].level == "orange"                # a later retake does not change A21
    assert later[S22].level is None


def test_evaluation_is_a_pure_function_of_the_records():
    records = (own_level(A21, 1) + own_level(S22, 2) + own_level(A22, 0)
               + [rec(S22, "M", "50"), rec(S22, "M", "70", exam="makeup"), rec(A22, "N", "缓考")])
    policy = semester_policy()
    expected = evaluate_student(records, policy)
    for seed in range(5):
        shuffled = records[:]
        random.Random(seed).shuffle(shuffled)
        assert evaluate_student(shuffled, policy) == expected
    assert evaluate_student([], policy) == {}


def test_records_of_several_students_are_refused():
    other = GradeRecord("s2", A21, "C", "c", 1.0, "required", "regular", "40")
    with pytest.raises(ValueError):
        evaluate_student([rec(A21, "C", "40"), other], semester_policy())


def standing(level, escalated=False):
    return Standing(level, escalated, ())


def test_diff_names_each_kind_of_change_in_semester_order():
    before = {A22: "yellow", A21: None, S22: "orange", S23: "red", A23: "yellow", "2024-2025-1": "none"}
    after = {A21: standing("yellow"), S22: standing("yellow"), A22: standing("red", True),
             S23: standing(None), A23: standing("yellow"), "2024-2025-1": standing(None)}
    assert diff_standings("s1", before, after) == [
        Change("issued", "s1", A21, "none", "yellow"),
        Change("downgraded", "s1", S22, "orange", "yellow"),
        Change("escalated", "s1", A22, "yellow", "red"),
        Change("lifted", "s1", S23, "red", "none"),
    ]


def test_diff_a_semester_gone_from_the_evaluation_is_lifted_if_it_had_a_level():
    assert diff_standings("s1", {A21: "orange", S22: None}, {}) == [Change("lifted", "s1", A21, "orange", "none")]
    assert diff_standings("s1", {}, {A21: standing(None)}) == []


def test_diff_only_levels_matter():
    assert diff_standings("s1", {A21: "red"}, {A21: standing("red", True)}) == []
    assert diff_standings("s1", {A21: standing("red")}, {A21: standing("orange", True)}) == [
        Change("downgraded", "s1", A21, "red", "orange")]


def test_processing_the_same_records_twice_changes_nothing():
    records = own_level(A21, 1) + own_level(S22, 3)
    policy = semester_policy()
    once = evaluate_student(records, policy)
    assert diff_standings("s1", {s: st.level for s, st in once.items()}, evaluate_student(records, policy)) == []
