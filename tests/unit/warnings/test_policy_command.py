"""`aq policy check` (no services) and how `aq policy what-if` shows the warnings service's answer."""
import json

import pytest
from click.testing import CliRunner

from aq_cli.commands import policy as policy_command
from aq_cli.main import cli
from services.warnings.domain.policy import DEFAULT_POLICY_PATH, load_default_policy
from services.warnings.domain.whatif import answer
from tests.unit.warnings.test_warnings_what_if import CANDIDATE, HISTORIES, PEOPLE

WITH_DISMISSAL = DEFAULT_POLICY_PATH.parent / "with-dismissal.yml"


def run(*args):
    return CliRunner().invoke(cli, list(args))


def test_check_a_good_policy_names_its_version_and_rules():
    result = run("policy", "check", str(DEFAULT_POLICY_PATH))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ("ok: version default-1, rules unresolved_failed_credits, semester_failed_credits, gpa "
                             "(escalation on, review required)\n")
    shipped = run("policy", "check", str(WITH_DISMISSAL))
    assert shipped.exit_code == 0 and "consecutive_warnings, cumulative_warnings, cet4_not_passed" in shipped.stdout


@pytest.mark.parametrize("text, message", [
    ("version: v\nrules:\n  gpa: {thresholds: {yellow: 2.0, orange: 2.5}}\n",
     "rule gpa: threshold for orange (2.5) must be below yellow's (2.0)"),
    ("version: v\nrules:\n  gpa_below: {thresholds: {yellow: 2}}\n", "unknown rule 'gpa_below' (available rules: "),
    ("version: v\nrules: [gpa]\n", "rules must map at least one rule name to its section"),
    ("version: v\nrules:\n  gpa: {thresholds: {yellow: 2.0}\n", "not valid YAML"),
])
def test_check_a_bad_policy_exits_1_with_the_reason(tmp_path, text, message):
    path = tmp_path / "mine.yml"
    path.write_text(text, encoding="utf-8")
    result = run("policy", "check", str(path))
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith(f"error: {path}: ") and message in result.stderr


def test_check_a_missing_file():
    result = run("policy", "check", "/nonexistent/policy.yml")
    assert result.exit_code == 1 and "cannot read the policy file" in result.stderr


class FakeWarnings:
    """Stands in for the RPC client: answers what_if as the service would, over the hand-checked histories."""

    def __init__(self):
        self.calls = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def call(self, service, method, *args):
        self.calls.append((service, method, args))
        text, semester, source = args
        return answer(HISTORIES, load_default_policy(), text, semester, lambda ids: {i: PEOPLE[i] for i in ids
                                                                                      if i in PEOPLE}, source)


@pytest.fixture
def warnings_service(monkeypatch):
    fake = FakeWarnings()
    monkeypatch.setattr(policy_command, "client", lambda: fake)
    return fake


def test_what_if_sends_the_text_and_shows_counts_and_changes(tmp_path, warnings_service):
    path = tmp_path / "candidate.yml"
    path.write_text(CANDIDATE, encoding="utf-8")
    result = run("policy", "what-if", str(path))
    assert result.exit_code == 0, result.stderr
    assert warnings_service.calls == [("warnings", "what_if", (CANDIDATE, None, "candidate.yml"))]
    out = result.stdout
    assert "lower-unresolved instead of the running default-1, every semester, 5 students evaluated" in out
    assert "would be warned 2, escalated 1, downgraded 1, lifted 1 (5 changes)" in out
    rows = [line.split() for line in out.splitlines() if line.startswith(("s1 ", "s4 "))]
    assert ["s1", "甲", "2021", "A", "2022-2023-1", "issued", "none", "orange", "unresolved_failed_credits"] in rows
    assert ["s4", "(not", "in", "roster)", "(not", "in", "roster)", "2021-2022-1", "downgraded", "orange", "yellow",
            "unresolved_failed_credits,semester_failed_credits"] in rows
    assert ["dismissal", "退学警示", "0", "0", "0"] in [line.split() for line in out.splitlines()]
    assert out.rstrip().endswith("Nothing was stored and nobody was told.")


def test_what_if_json_is_the_whole_answer(tmp_path, warnings_service):
    path = tmp_path / "candidate.yml"
    path.write_text(CANDIDATE, encoding="utf-8")
    result = run("policy", "what-if", str(path), "--semester", "2021-2022-2", "--json")
    got = json.loads(result.stdout)
    assert got["semester"] == "2021-2022-2" and got["by_kind"]["total"] == 2


def test_what_if_of_a_bad_policy_exits_1_with_the_services_reason(tmp_path, warnings_service):
    path = tmp_path / "bad.yml"
    path.write_text("version: v\nrules:\n  gpa: {thresholds: {dismissal: 1.0}}\n", encoding="utf-8")
    result = run("policy", "what-if", str(path))
    assert result.exit_code == 1
    assert result.stderr.startswith("error: bad.yml: rule gpa: unknown level 'dismissal'")


def test_what_if_of_an_unreadable_file_asks_no_service(tmp_path, warnings_service):
    result = run("policy", "what-if", str(tmp_path / "missing.yml"))
    assert result.exit_code == 1 and "cannot read the policy file" in result.stderr
    assert warnings_service.calls == []
