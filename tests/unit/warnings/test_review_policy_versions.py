"""Installing a policy version (aq warnings policy-install) on a real SQLite file: it is stored and, from then on,
in force for every instance; everybody with records is re-evaluated; only level differences become changes (with
the new version, through review); the same version twice changes nothing; an earlier, lower or unusable policy is
refused with the reason."""
from datetime import timedelta

import pytest

from services.warnings import handlers, release
from services.warnings.policy_store import PolicyBook, list_installed
from tests.unit.warnings.test_review_flow import (
    DEFAULT_TEXT, NOW, S, announced, book, confirm, failing, lists_opened, record, run, standing, take, waiting,
)
from tests.unit.warnings.test_review_flow import engine  # noqa: F401  (the fixture)

# default-2: one failed 4-credit course is already a yellow warning, two are orange.
STRICTER = DEFAULT_TEXT.replace('version: "default-1"', 'version: "default-2"').replace(
    "thresholds: {yellow: 8, orange: 12}", "thresholds: {yellow: 4, orange: 8}")


def install(engine, text, policy_book, by="jwc01", now=NOW):
    return run(engine, handlers.install_policy, text, by, policy_book, now,
               correlation=handlers.installation_id(text))


@pytest.fixture
def college(engine):  # noqa: F811
    """s1 yellow (two failed courses) and s2 nothing (one failed course), announced under default-1."""
    policies = book()
    take(engine, failing("s1", "AB") + failing("s2", "A") + [record("s3", "A", "90")], policies, "U1")
    confirm(engine, 1, policies)
    return engine, policies


def test_a_new_version_reevaluates_everybody_and_only_level_differences_wait_for_review(college):
    engine, policies = college
    assert STRICTER != DEFAULT_TEXT and "default-2" in STRICTER
    answer = install(engine, STRICTER, policies)
    assert answer == {"status": "installed", "version": "default-2", "previous": "default-1", "students": 3,
                      "changes": 2, "correlation_id": "policy:default-2", "review_required": True}
    assert waiting(engine) == {2: [("s1", "escalated", "yellow", "orange", "pending"),
                                   ("s2", "issued", "none", "yellow", "pending")]}
    with engine.connect() as conn:
        assert {c["policy_version"] for c in release.list_batches(conn)[0]["changes"]} == {"default-2"}
    assert standing(engine) == {("s1", S): ("yellow", "active", "default-1")}     # announced: not yet changed
    assert lists_opened(engine)[-1] == ("policy:default-2", {
        "batch_id": 2, "source": "policy", "policy_version": "default-2", "changes": 2, "semesters": [S],
        "objection_window_hours": 0.0})
    confirm(engine, 2, policies, now=NOW + timedelta(minutes=5))
    assert announced(engine)[-1] == ("policy:default-2", [("escalated", "s1", "yellow", "orange"),
                                                          ("issued", "s2", "none", "yellow")])
    assert standing(engine) == {("s1", S): ("orange", "active", "default-2"),
                                ("s2", S): ("yellow", "active", "default-2")}


def test_a_warning_whose_level_stays_takes_the_new_version_without_an_announcement(college):
    engine, policies = college
    renamed = DEFAULT_TEXT.replace('version: "default-1"', 'version: "default-1.1"')
    answer = install(engine, renamed, policies)
    assert (answer["status"], answer["changes"]) == ("installed", 0)
    assert standing(engine) == {("s1", S): ("yellow", "active", "default-1.1")}
    assert waiting(engine) == {} and len(announced(engine)) == 1


def test_every_instance_evaluates_with_the_latest_installed_version(college):
    engine, policies = college
    other_instance = book()
    install(engine, STRICTER, policies)
    with engine.connect() as conn:
        assert other_instance.current(conn).version == "default-2"
        assert [p["version"] for p in list_installed(conn)] == ["default-2"]
    confirm(engine, 2, policies)
    take(engine, failing("s4", "A"), other_instance, "U2")       # one failed course: yellow under default-2
    assert waiting(engine) == {3: [("s4", "issued", "none", "yellow", "pending")]}


def test_installing_the_same_version_twice_changes_nothing(college):
    engine, policies = college
    install(engine, STRICTER, policies)
    again = install(engine, STRICTER, policies, now=NOW + timedelta(hours=1))
    assert again == {"status": "unchanged", "message": "policy default-2 is already in force; nothing changed",
                     "version": "default-2"}
    with engine.connect() as conn:
        assert len(list_installed(conn)) == 1


def test_an_earlier_lower_changed_or_unusable_policy_is_refused(college):
    engine, policies = college
    install(engine, STRICTER, policies)
    lower = install(engine, DEFAULT_TEXT, policies)
    assert lower["status"] == "rejected" and "does not come after the version in force, 'default-2'" in lower["message"]
    changed = STRICTER.replace("min_graded_credits: 20", "min_graded_credits: 30")
    refused = install(engine, changed, policies)
    assert refused["status"] == "rejected" and "different content" in refused["message"]
    unknown_rule = STRICTER.replace('"default-2"', '"default-3"').replace("  gpa:", "  no_such_rule:")
    refused = install(engine, unknown_rule, policies)
    assert refused["status"] == "rejected" and "no_such_rule" in refused["message"]
    assert install(engine, "version: [", policies)["message"].startswith("the policy cannot be used: not valid YAML")
    with engine.connect() as conn:
        assert [p["version"] for p in list_installed(conn)] == ["default-2"]


def test_the_file_in_force_before_any_installation_counts_as_the_current_version(engine):  # noqa: F811
    policies = book()
    assert install(engine, DEFAULT_TEXT, policies)["status"] == "unchanged"
    tweaked = DEFAULT_TEXT.replace("min_graded_credits: 20", "min_graded_credits: 30")
    assert "different content" in install(engine, tweaked, policies)["message"]
    assert PolicyBook(fallback_text=DEFAULT_TEXT).fallback.seq is None
