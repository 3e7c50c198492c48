"""Review before release, the plain rules: what a newer evaluation does to a held change, when a confirmed list is
released, which policy version may replace the one in force, and how review requests are checked."""
from datetime import datetime, timedelta, timezone

import pytest

from services.warnings import requests, review
from services.warnings.review import Held, install_verdict, next_step, suggest_next, version_key

WAITING = Held("c1", 1, review.PENDING, "orange")
CONFIRMED = Held("c1", 1, review.CONFIRMED, "orange")
EXCLUDED = Held("c1", 1, review.EXCLUDED, "orange")


@pytest.mark.parametrize("newest, held, step", [
    (None, None, review.NOTHING),            # agrees with what was announced, nothing held
    ("yellow", None, review.REPLACE),        # a new change, nothing to replace
    (None, WAITING, review.WITHDRAW),        # back to the announced level: the waiting change goes
    (None, EXCLUDED, review.WITHDRAW),       # … and an exclusion ends
    ("orange", WAITING, review.KEEP),        # the same level again: the waiting change stays
    ("orange", CONFIRMED, review.KEEP),      # … also when staff already confirmed it
    ("orange", EXCLUDED, review.KEEP),       # an exclusion sticks while the level stays
    ("red", WAITING, review.REPLACE),        # another level: replaced by a change from the announced level
    ("red", CONFIRMED, review.REPLACE),      # a confirmed but unreleased change is replaced and needs confirming
    ("yellow", EXCLUDED, review.REPLACE),    # the level changed again: the exclusion no longer holds
])
def test_what_a_newer_evaluation_does_to_the_held_change(newest, held, step):
    assert next_step(newest, held) == step


def test_a_confirmed_list_is_released_after_the_objection_window():
    confirmed = datetime(2024, 9, 1, 8, 0, tzinfo=timezone.utc)
    assert review.release_moment(confirmed, 0) == confirmed
    assert review.release_moment(confirmed, 48) == confirmed + timedelta(days=2)
    assert review.release_moment(confirmed, 0.5) == confirmed + timedelta(minutes=30)


def test_versions_compare_naturally():
    ordered = ["default-1", "default-2", "default-10", "default-10a", "default-11"]
    assert sorted(ordered, key=version_key) == ordered
    assert sorted(["2024.10", "2024.9", "2023.12"], key=version_key) == ["2023.12", "2024.9", "2024.10"]
    assert version_key("v1") == version_key("v01")
    assert suggest_next("default-1") == "default-2"
    assert suggest_next("2024.9-cs") == "2024.10-cs"
    assert suggest_next("college") == "college-2"


CURRENT = {"version": "default-2", "rules": {"gpa": {"thresholds": {"yellow": 2.0}}}}
INSTALLED = {"default-1": datetime(2024, 1, 5), "default-2": datetime(2024, 3, 1)}


def test_a_later_version_is_installed():
    verdict = install_verdict("default-3", {"version": "default-3"}, "default-2", CURRENT, INSTALLED)
    assert verdict.action == "install"


def test_the_version_in_force_again_changes_nothing_if_the_same_and_is_refused_if_different():
    assert install_verdict("default-2", dict(CURRENT), "default-2", CURRENT, INSTALLED).action == "unchanged"
    changed = {**CURRENT, "rules": {"gpa": {"thresholds": {"yellow": 2.5}}}}
    verdict = install_verdict("default-2", changed, "default-2", CURRENT, INSTALLED)
    assert verdict.action == "rejected"
    assert "different content" in verdict.message and "default-3" in verdict.message


def test_an_earlier_or_lower_version_is_refused_with_the_reason():
    earlier = install_verdict("default-1", {"version": "default-1"}, "default-2", CURRENT, INSTALLED)
    assert earlier.action == "rejected"
    assert "installed on 2024-01-05" in earlier.message and "default-2" in earlier.message
    lower = install_verdict("college-9", {"version": "college-9"}, "default-2", CURRENT, INSTALLED)
    assert lower.action == "rejected"
    assert "does not come after" in lower.message and "'default-2'" in lower.message
    # Before any installation the file's version is in force and counts the same way.
    assert install_verdict("default-1", {}, "default-1", {"other": 1}, {}).action == "rejected"
    assert install_verdict("default-0", {}, "default-1", {}, {}).action == "rejected"


def test_review_requests_name_every_bad_field():
    body, rejected = requests.load(requests.ConfirmRequest, {"batch_id": "7", "confirmed_by": "  "})
    assert body is None and rejected["status"] == "rejected"
    assert "batch_id" in rejected["message"] and "confirmed_by" in rejected["message"]
    body, rejected = requests.load(requests.ExcludeRequest, {"batch_id": 3, "student_id": "s1", "reason": " ",
                                                             "excluded_by": "jwc01"})
    assert body is None and "reason: give the reason" in rejected["message"]
    body, rejected = requests.load(requests.ExcludeRequest, {"batch_id": 3, "student_id": " s1 ",
                                                             "reason": " 已另行约谈 ", "excluded_by": "jwc01"})
    assert rejected is None and body == {"batch_id": 3, "student_id": "s1", "reason": "已另行约谈",
                                         "excluded_by": "jwc01"}
    body, rejected = requests.load(requests.PendingRequest, {"semester": "2024-2026-1", "batch_id": None,
                                                             "everything": False})
    assert "semester" in rejected["message"] and "consecutive" in rejected["message"]
    assert requests.load(requests.InstallRequest, {"policy_text": "", "installed_by": "jwc"})[1] is not None
