"""Does the intervention work? Warned students of P, judged at S, split by whether their talk was on time."""
from services.assessment.domain.facts import next_semester
from services.assessment.domain.intervention import intervention_effect, talk_group
from tests.unit.assessment.college_fixture import LEVELS, P, S, TASKS

EVALUATED_AT_S = {"a1", "a2", "a3", "a4", "b1", "b2", "c1"}


def test_next_semester_skips_summer():
    assert next_semester("2024-2025-1") == "2024-2025-2"
    assert next_semester("2024-2025-2") == "2025-2026-1"
    assert next_semester("2024-2025-3") == "2025-2026-1"


def test_talk_groups():
    assert talk_group("a1", P, TASKS) == "on_time"      # due 10 Oct, done 9 Oct
    assert talk_group("a2", P, TASKS) == "late"         # done 20 Oct
    assert talk_group("b1", P, TASKS) == "not_done"
    assert talk_group("c1", P, TASKS) == "no_task"


def test_improvement_split_by_talk_on_time():
    effect = intervention_effect(P, S, LEVELS, EVALUATED_AT_S, TASKS)
    g = effect["groups"]
    assert effect["warned"] == 4
    assert (g["on_time"]["warned"], g["on_time"]["improved"], g["on_time"]["lifted"]) == (1, 1, 1)   # a1 lifted
    assert (g["late"]["improved"], g["late"]["not_improved"]) == (0, 1)            # a2 orange -> orange
    assert (g["not_done"]["improved"], g["not_done"]["not_improved"]) == (0, 1)    # b1 yellow -> red
    assert (g["no_task"]["improved"], g["no_task"]["fell"]) == (1, 1)               # c1 red -> orange
    assert effect["on_time"] == {"numerator": 1, "denominator": 1, "rate": 1.0}
    assert effect["not_on_time"] == {"numerator": 1, "denominator": 3, "rate": 1 / 3}


def test_students_without_records_next_semester_are_not_judged():
    effect = intervention_effect(P, S, LEVELS, {"a2"}, TASKS)
    g = effect["groups"]
    assert g["on_time"]["not_evaluated"] == 1 and g["on_time"]["evaluated"] == 0
    assert g["on_time"]["improved_rate"]["rate"] is None
    assert effect["not_on_time"] == {"numerator": 0, "denominator": 1, "rate": 0.0}
