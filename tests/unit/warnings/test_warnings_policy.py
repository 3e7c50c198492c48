"""The policy file: the default one reproduces policy.md §4; a file that cannot be used says why and where."""
import copy
from decimal import Decimal

import pytest

from services.warnings.domain.evaluation import evaluate_student
from services.warnings.domain.measures import CreditSum
from services.warnings.domain.model import GradeRecord
from services.warnings.domain.policy import DEFAULT_POLICY_PATH, Policy, PolicyError, load_default_policy
from services.warnings.domain.rules import Rule

GOOD = {
    "version": "test-1",
    "escalation": True,
    "rules": {
        "unresolved_failed_credits": {"thresholds": {"yellow": 10, "orange": 15, "red": 25}},
        "semester_failed_credits": {"thresholds": {"yellow": 8, "orange": 12}},
        "gpa": {"thresholds": {"yellow": 2.0, "orange": 1.8}, "min_graded_credits": 20},
    },
}


def with_change(path, value):
    data = copy.deepcopy(GOOD)
    *parents, last = path
    target = data
    for key in parents:
        target = target[key]
    if value is DELETE:
        del target[last]
    else:
        target[last] = value
    return data


DELETE = object()


def test_the_default_policy_is_the_table_of_policy_md():
    policy = load_default_policy()
    assert policy.version == "default-1"
    assert policy.escalation is True
    assert {rule.name: ({k: float(v) for k, v in rule.thresholds.items()}, rule.comparison)
            for rule in policy.rules} == {
        "unresolved_failed_credits": ({"yellow": 10, "orange": 15, "red": 25}, ">="),
        "semester_failed_credits": ({"yellow": 8, "orange": 12}, ">="),
        "gpa": ({"yellow": 2.0, "orange": 1.8}, "<"),
    }
    assert {rule.name: rule.options for rule in policy.rules}["gpa"] == {"min_graded_credits": 20}
    assert DEFAULT_POLICY_PATH.name == "default.yml"


def test_a_good_policy_file_loads(tmp_path):
    path = tmp_path / "college.yml"
    path.write_text('version: "2025.1"\nescalation: false\nrules:\n  semester_failed_credits:\n'
                    '    thresholds: {yellow: 6, red: 10}\n', encoding="utf-8")
    policy = Policy.from_file(path)
    assert (policy.version, policy.escalation, policy.rule_names) == ("2025.1", False, ("semester_failed_credits",))
    assert policy.rules[0].thresholds == {"yellow": Decimal(6), "red": Decimal(10)}


@pytest.mark.parametrize("path, value, message", [
    (("rules", "gpa_below"), {"thresholds": {"yellow": 2}},
     "unknown rule 'gpa_below' (available rules: cet4_not_passed, consecutive_warnings, cumulative_warnings, gpa, "
     "semester_earned_credits, semester_failed_credits, unresolved_failed_credits)"),
    (("rules", "gpa", "thresholds", "orange"), "low", "rule gpa: threshold for orange must be a number, not 'low'"),
    (("rules", "gpa", "thresholds", "orange"), True, "rule gpa: threshold for orange must be a number"),
    (("rules", "gpa", "thresholds", "orange"), 2.5, "rule gpa: threshold for orange (2.5) must be below yellow's (2.0)"),
    (("rules", "unresolved_failed_credits", "thresholds", "red"), 12,
     "rule unresolved_failed_credits: threshold for red (12) must be above orange's (15)"),
    (("rules", "gpa", "thresholds", "amber"), 1.0, "rule gpa: unknown level 'amber'"),
    (("rules", "gpa", "thresholds"), {}, "rule gpa: 'thresholds' must map at least one level"),
    (("rules", "gpa", "thresholds"), DELETE, "rule gpa: it has no 'thresholds'"),
    (("rules", "gpa", "min_credits"), 10, "rule gpa: unknown option(s) min_credits (options of this rule: min_graded_credits)"),
    (("rules", "gpa", "min_graded_credits"), "twenty", "rule gpa: option min_graded_credits must be a number"),
    (("rules", "semester_failed_credits", "course_types"), ["required", "optional"],
     "rule semester_failed_credits: option course_types must be a non-empty list"),
    (("rules", "semester_failed_credits"), None, "rule semester_failed_credits: its section must be a mapping"),
    (("rules",), {}, "rules must map at least one rule name"),
    (("version",), 2025.1, "version must be a non-empty string (quote it in YAML)"),
    (("version",), DELETE, "version must be a non-empty string"),
    (("escalation",), "yes please", "escalation must be true or false"),
    (("escalate",), True, "unknown key(s) escalate"),
])
def test_a_bad_policy_says_what_is_wrong(path, value, message):
    with pytest.raises(PolicyError) as caught:
        Policy.from_dict(with_change(path, value))
    assert message in str(caught.value)


def test_a_bad_policy_file_names_the_file(tmp_path):
    missing = tmp_path / "missing.yml"
    with pytest.raises(PolicyError, match="missing.yml: cannot read"):
        Policy.from_file(missing)
    broken = tmp_path / "broken.yml"
    broken.write_text("version: [unclosed\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="broken.yml: not valid YAML"):
        Policy.from_file(broken)
    wrong = tmp_path / "wrong.yml"
    wrong.write_text('version: "x"\nrules:\n  gpa:\n    thresholds: {yellow: abc}\n', encoding="utf-8")
    with pytest.raises(PolicyError, match=r"wrong.yml: rule gpa: threshold for yellow must be a number"):
        Policy.from_file(wrong)
    assert not isinstance(PolicyError("x"), KeyError) and isinstance(PolicyError("x"), ValueError)


class FailedCourses(Rule):
    """A college's own rule: the number of failed courses so far, whatever their credits."""
    comparison = ">="

    def measure(self, view):
        failed = view.unresolved_failed_credits()
        return CreditSum(Decimal(len(failed.courses)), failed.courses)


def test_a_college_adds_its_own_rule_without_touching_service_code():
    policy = Policy.from_dict({"version": "x", "rules": {"failed_courses": {"thresholds": {"red": 3}}}},
                              rule_classes={"failed_courses": FailedCourses})
    records = [GradeRecord("s1", "2021-2022-1", f"C{i}", "c", 0.5, "required", "regular", "40") for i in range(3)]
    standing = evaluate_student(records, policy)["2021-2022-1"]
    assert (standing.level, standing.rules) == ("red", ("failed_courses",))
    assert standing.reasons[0]["measure"] == 3.0
    with pytest.raises(PolicyError, match=r"unknown rule 'unresolved_failed_credits' \(available rules: failed_courses\)"):
        Policy.from_dict(GOOD, rule_classes={"failed_courses": FailedCourses})
