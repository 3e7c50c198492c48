"""The escalation-chain rules (consecutive_warnings, cumulative_warnings): warned in 2 consecutive or 3 cumulative
semesters -> dismissal risk (退学警示), the level above red that only these rules give."""
import pytest

from contracts.events import ReasonSchema, WarningChangeSchema
from services.warnings.domain.evaluation import diff_standings, evaluate_student
from services.warnings.domain.model import Change, GradeRecord, raise_one_step
from services.warnings.domain.policy import Policy, PolicyError

A21, S22, U22, A22, S23, A23 = "2021-2022-1", "2021-2022-2", "2021-2022-3", "2022-2023-1", "2022-2023-2", "2023-2024-1"


def rec(semester, course, score, *, exam="regular", credits=1.0):
    return GradeRecord("s1", semester, course, f"课程{course}", credits, "required", exam, str(score))


def own_level(semester, credits):
    """Records that give ``semester`` the level of ``credits`` failed credits by itself (0 = a pass)."""
    return [rec(semester, f"{semester}-F", "40" if credits else "80", credits=credits or 1)]


def chain_policy(consecutive=2, cumulative=3, escalation=True, **cumulative_options):
    """1 failed credit this semester = yellow, 2 = orange, 3 = red; plus the chain."""
    rules = {"semester_failed_credits": {"thresholds": {"yellow": 1, "orange": 2, "red": 3}}}
    if consecutive:
        rules["consecutive_warnings"] = {"thresholds": {"dismissal": consecutive}}
    if cumulative:
        rules["cumulative_warnings"] = {"thresholds": {"dismissal": cumulative}, **cumulative_options}
    return Policy.from_dict({"version": "chain", "escalation": escalation, "rules": rules})


def levels(records, policy):
    return {semester: s.level for semester, s in evaluate_student(records, policy).items()}


def test_two_consecutive_warned_semesters_reach_dismissal_with_a_reason():
    standings = evaluate_student(own_level(A21, 1) + own_level(S22, 1), chain_policy())
    assert standings[A21].level == "yellow"
    s22 = standings[S22]
    assert (s22.level, s22.escalated) == ("dismissal", True)     # yellow, escalated to orange, then the chain
    chain = [r for r in s22.reasons if r["rule"] == "consecutive_warnings"]
    assert chain == [{"rule": "consecutive_warnings", "level": "dismissal", "measure": 2.0, "threshold": 2.0,
                      "comparison": ">=", "courses": []}]
    assert ReasonSchema(many=True).validate(list(s22.reasons)) == {}


def test_three_warned_semesters_in_all_reach_dismissal_without_a_run():
    records = (own_level(A21, 1) + own_level(S22, 0) + own_level(A22, 1) + own_level(S23, 0) + own_level(A23, 1))
    assert levels(records, chain_policy()) == {A21: "yellow", S22: None, A22: "yellow", S23: None,
                                              A23: "dismissal"}
    reasons = evaluate_student(records, chain_policy())[A23].reasons
    assert {r["rule"]: r["measure"] for r in reasons} == {"semester_failed_credits": 1.0, "cumulative_warnings": 3.0}


def test_a_semester_without_a_warning_is_never_dismissal_risk():
    records = own_level(A21, 2) + own_level(S22, 3) + own_level(A22, 0)
    assert levels(records, chain_policy())[A22] is None


def test_a_semester_without_records_breaks_the_run():
    records = own_level(A21, 1) + own_level(A22, 1)     # nothing at all in S22
    assert levels(records, chain_policy(cumulative=None)) == {A21: "yellow", A22: "yellow"}


def test_summer_terms_neither_continue_a_run_nor_count_unless_asked():
    records = own_level(S22, 1) + own_level(U22, 1) + own_level(A22, 1)
    # The summer term has no previous semester; A22's previous is S22 (warned): a run of 2.
    assert levels(records, chain_policy(cumulative=None)) == {S22: "yellow", U22: "yellow", A22: "dismissal"}
    # In all: S22 and A22 = 2 (the summer term left out), not yet 3.
    assert levels(records, chain_policy(consecutive=None)) == {S22: "yellow", U22: "yellow", A22: "orange"}
    with_summer = chain_policy(consecutive=None, count_summer_terms=True)
    assert levels(records, with_summer) == {S22: "yellow", U22: "yellow", A22: "dismissal"}


def test_the_run_goes_on_after_dismissal_and_ordinary_escalation_starts_from_the_own_level():
    records = own_level(A21, 1) + own_level(S22, 1) + own_level(A22, 1)
    standings = evaluate_student(records, chain_policy())
    assert standings[A22].level == "dismissal"
    assert {r["rule"]: r["measure"] for r in standings[A22].reasons}["consecutive_warnings"] == 3.0
    # Without the chain, the same records escalate one step at a time and stop at red.
    plain = chain_policy(consecutive=None, cumulative=None)
    assert levels(own_level(A21, 3) + own_level(S22, 3) + own_level(A22, 3), plain) == {
        A21: "red", S22: "red", A22: "red"}


def test_ordinary_escalation_never_gives_dismissal():
    assert raise_one_step("yellow") == "orange"
    assert raise_one_step("orange") == "red"
    assert raise_one_step("red") == "red"
    assert raise_one_step("dismissal") == "dismissal"


def test_a_make_up_pass_that_lifts_an_earlier_semester_takes_it_out_of_the_count():
    records = own_level(A21, 1) + own_level(S22, 1)
    assert levels(records, chain_policy())[S22] == "dismissal"
    repaired = records + [rec(A21, f"{A21}-F", "75", exam="makeup")]
    assert levels(repaired, chain_policy()) == {A21: None, S22: "yellow"}
    assert diff_standings("s1", {A21: "yellow", S22: "dismissal"}, evaluate_student(repaired, chain_policy())) == [
        Change("lifted", "s1", A21, "yellow", "none"), Change("downgraded", "s1", S22, "dismissal", "yellow")]


def test_warnings_of_ignored_rules_do_not_count_toward_the_chain():
    # The semester rule warns in A21 and S22 (1 failed credit each, too few graded credits for the GPA rule);
    # A22 adds 5 credits at 65: GPA 7.5 / 7 < 2.0, a GPA-only warning.
    rules = {"semester_failed_credits": {"thresholds": {"yellow": 1}},
             "gpa": {"thresholds": {"yellow": 2.0}, "min_graded_credits": 5},
             "consecutive_warnings": {"thresholds": {"dismissal": 2}, "ignore_rules": ["semester_failed_credits"]},
             "cumulative_warnings": {"thresholds": {"dismissal": 2}, "ignore_rules": ["semester_failed_credits"]}}
    ignoring = Policy.from_dict({"version": "x", "escalation": False, "rules": rules})
    records = own_level(A21, 1) + own_level(S22, 1) + [rec(A22, "G", "65", credits=5)]
    # Neither rule sees A21 or S22 as warned: A22 is the first counted semester.
    assert levels(records, ignoring) == {A21: "yellow", S22: "yellow", A22: "yellow"}
    records += [rec(S23, "H", "65", credits=1)]       # GPA 9 / 8: a second counted semester, in a row
    standing = evaluate_student(records, ignoring)[S23]
    assert standing.level == "dismissal"
    assert {r["rule"]: r["measure"] for r in standing.reasons} == {
        "gpa": 1.125, "consecutive_warnings": 2.0, "cumulative_warnings": 2.0}


def test_the_chain_works_with_escalation_turned_off():
    records = own_level(A21, 1) + own_level(S22, 1)
    standings = evaluate_student(records, chain_policy(escalation=False))
    assert (standings[S22].level, standings[S22].escalated) == ("dismissal", False)


def test_dismissal_changes_are_event_shaped():
    change = {"change_id": "c1", "student_id": "s1", "semester": S22, "kind": "escalated", "old_level": "red",
              "new_level": "dismissal", "escalated": True, "reasons": [], "policy_version": "chain"}
    assert WarningChangeSchema().validate(change) == {}
    assert diff_standings("s1", {S22: "red"}, evaluate_student(own_level(A21, 1) + own_level(S22, 3),
                                                               chain_policy()))[-1].new_level == "dismissal"


@pytest.mark.parametrize("rules, message", [
    ({"gpa": {"thresholds": {"dismissal": 1.0}}},
     "rule gpa: unknown level 'dismissal' in thresholds (levels of this rule: yellow, orange, red; "
     "dismissal is given only by the escalation-chain rules)"),
    ({"consecutive_warnings": {"thresholds": {"dismissal": 2, "red": 3}}},
     "rule consecutive_warnings: threshold for dismissal (2) must be above red's (3)"),
    ({"cumulative_warnings": {"thresholds": {"dismissal": 3}, "count_summer_terms": "yes"}},
     "rule cumulative_warnings: option count_summer_terms must be true or false, not 'yes'"),
    ({"consecutive_warnings": {"thresholds": {"dismissal": 2}, "count_summer_terms": True}},
     "rule consecutive_warnings: unknown option(s) count_summer_terms (options of this rule: ignore_rules)"),
    ({"consecutive_warnings": {"thresholds": {"dismissal": 2}, "ignore_rules": "gpa"}},
     "rule consecutive_warnings: option ignore_rules must be a list of rule names, not 'gpa'"),
])
def test_bad_chain_sections_say_what_is_wrong(rules, message):
    with pytest.raises(PolicyError) as raised:
        Policy.from_dict({"version": "x", "rules": rules})
    assert str(raised.value) == message
