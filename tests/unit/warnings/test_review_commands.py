"""The staff's commands (aq warnings pending|confirm|exclude|policy-install) against a stand-in for the warnings
service: what they ask, what they print, and that a refusal exits 1 with the service's reason."""
import json

import pytest
from click.testing import CliRunner

from aq_cli.commands import review
from aq_cli.commands.results import warnings

BATCH = {"batch_id": 3, "correlation_id": "U-1", "status": "pending", "created_at": "2024-09-02T01:00:00+00:00",
         "confirmed_by": None, "confirmed_at": None, "release_at": None, "released_at": None,
         "counts": {"pending": 1},
         "changes": [{"student_id": "210301001", "semester": "2021-2022-1", "kind": "issued", "old_level": "none",
                      "new_level": "orange", "rules": ["semester_failed_credits"], "release_status": "pending"}]}
CONFIRMED = {**BATCH, "batch_id": 4, "status": "confirmed", "confirmed_by": "jwc01",
             "confirmed_at": "2024-09-02T02:00:00+00:00", "release_at": "2024-09-04T02:00:00+00:00"}


class StandIn:
    def __init__(self, answers):
        self.answers, self.calls = answers, []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def call(self, service, method, *args, **kwargs):
        self.calls.append((service, method) + args)
        answer = self.answers[method]
        return answer(*args) if callable(answer) else answer


@pytest.fixture
def service(monkeypatch):
    stand_in = StandIn({})
    monkeypatch.setattr(review, "client", lambda timeout=120.0: stand_in)
    return stand_in


def aq(*args):
    return CliRunner().invoke(warnings, list(args))


def test_pending_prints_each_batch_with_its_changes(service):
    service.answers["list_pending"] = [BATCH, CONFIRMED]
    result = aq("pending", "--semester", "2021-2022-1")
    assert result.exit_code == 0, result.output
    assert service.calls == [("warnings", "list_pending", "2021-2022-1", None, False)]
    assert "batch 3  pending  from U-1  computed 2024-09-02 01:00 UTC" in result.output
    assert "210301001   2021-2022-1  issued  none → orange  semester_failed_credits  pending" in result.output
    assert "batch 4  confirmed" in result.output
    assert "announced at 2024-09-04 02:00 UTC (objection window)" in result.output
    service.answers["list_pending"] = []
    assert aq("pending").output == "nothing waits for review\n"
    service.answers["list_pending"] = [BATCH]
    assert json.loads(aq("pending", "--json").output) == [BATCH]


def test_confirm_all_confirms_only_the_pending_batches_and_says_when_they_go_out(service):
    service.answers["list_pending"] = [BATCH, CONFIRMED]
    service.answers["confirm_batch"] = {"status": "confirmed", "correlation_id": "U-1", "changes": 1,
                                        "release_at": "2024-09-04T01:00:00+00:00", "released": 0}
    result = aq("confirm", "--all", "--by", "jwc01")
    assert result.exit_code == 0, result.output
    assert service.calls[1:] == [("warnings", "confirm_batch", 3, "jwc01")]
    assert ("batch 3 (U-1): 1 changes confirmed; announced at 2024-09-04 01:00 UTC after the objection window"
            in result.output)


def test_confirm_needs_batches_or_all_and_reports_a_refusal(service):
    assert aq("confirm", "--by", "jwc01").exit_code == 2
    assert aq("confirm", "3", "--all", "--by", "jwc01").exit_code == 2
    service.answers["confirm_batch"] = {"status": "rejected", "message": "batch 3 was released on 2024-09-02 01:00"}
    result = aq("confirm", "3", "--by", "jwc01")
    assert result.exit_code == 1 and "batch 3 was released on 2024-09-02 01:00" in result.output


def test_exclude_passes_the_reason_and_who_and_prints_what_was_withheld(service):
    service.answers["exclude_student"] = {"status": "excluded", "batch_id": 3, "student_id": "210301001",
                                          "changes": [{"semester": "2021-2022-1", "kind": "issued",
                                                       "old_level": "none", "new_level": "orange"}]}
    result = aq("exclude", "3", "210301001", "--reason", "因病缓考", "--by", "jwc01")
    assert result.exit_code == 0, result.output
    assert service.calls == [("warnings", "exclude_student", 3, "210301001", "因病缓考", "jwc01")]
    assert "student 210301001 excluded from batch 3 (2021-2022-1 none → orange)" in result.output
    assert aq("exclude", "3", "210301001", "--by", "jwc01").exit_code == 2        # the reason is required


def test_policy_install_sends_the_file_and_reports_each_outcome(service, tmp_path):
    path = tmp_path / "college-2.yml"
    path.write_text("version: college-2\n", encoding="utf-8")
    service.answers["install_policy"] = {"status": "installed", "version": "college-2", "previous": "default-1",
                                         "students": 120, "changes": 4, "correlation_id": "policy:college-2",
                                         "review_required": True}
    result = aq("policy-install", str(path), "--by", "jwc01")
    assert result.exit_code == 0, result.output
    assert service.calls == [("warnings", "install_policy", "version: college-2\n", "jwc01")]
    assert result.output == ("policy college-2 installed (was default-1): 120 students re-evaluated, 4 changes; "
                             "waiting for review (aq warnings pending)\n")
    service.answers["install_policy"] = {"status": "rejected", "message": "policy version 'a' does not come after"}
    refused = aq("policy-install", str(path), "--by", "jwc01")
    assert refused.exit_code == 1 and "college-2.yml: policy version 'a' does not come after" in refused.output
    assert "cannot read the policy file" in aq("policy-install", str(tmp_path / "missing.yml"), "--by", "x").output
