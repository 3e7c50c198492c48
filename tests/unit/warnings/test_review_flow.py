"""Review before release through the warnings service layer on a real SQLite file: computed changes wait in a
batch; corrections replace what waits without losing it; staff confirm or exclude (recorded); only confirmed
changes are announced, after the objection window if the policy sets one; review can be switched off."""
import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from services.warnings import handlers, queries, release, tables
from services.warnings.domain.policy import DEFAULT_POLICY_PATH
from services.warnings.policy_store import PolicyBook
from shared.db import engine_for
from shared.messaging.unit_of_work import UnitOfWork
from shared.migrations import upgrade

NOW = datetime(2024, 9, 2, 1, 0, tzinfo=timezone.utc)
S = "2023-2024-1"
DEFAULT_TEXT = DEFAULT_POLICY_PATH.read_text(encoding="utf-8")


@pytest.fixture
def engine(sqlite_url):
    upgrade("warnings", sqlite_url)
    return engine_for("warnings", sqlite_url)


def book(review: str = "") -> PolicyBook:
    return PolicyBook(fallback_text=DEFAULT_TEXT + review)


REVIEW_OFF = "\nreview:\n  required: false\n"
WINDOW_2H = "\nreview:\n  objection_window_hours: 2\n"


def record(student, course, score, exam="regular", semester=S):
    return {"student_id": student, "semester": semester, "course_code": course, "course_name": f"课程{course}",
            "credits": 4.0, "course_type": "required", "exam_type": exam, "score": score, "teacher": "T",
            "offering_college": ""}


def failing(student, courses, semester=S):
    """Each failed 4-credit required course adds 4 semester failed credits: 2 → yellow (8), 3 → orange (12)."""
    return [record(student, c, "40", semester=semester) for c in courses]


def run(engine, func, *args, correlation="U1"):
    with UnitOfWork(engine, "warnings", tables.MESSAGING, correlation_id=correlation) as uow:
        return func(uow, *args)


def take(engine, records, policy_book, correlation, now=NOW):
    return run(engine, handlers.take_records, records, policy_book, now, correlation=correlation)


def confirm(engine, batch_id, policy_book, now=NOW, by="jwc01"):
    correlation = _correlation(engine, batch_id)
    return run(engine, release.confirm, batch_id, by, policy_book.fallback.policy, now, correlation=correlation)


def exclude(engine, batch_id, student, reason="已由学院另行约谈", by="jwc01", now=NOW):
    return run(engine, release.exclude, batch_id, student, reason, by, now, correlation=_correlation(engine, batch_id))


def _correlation(engine, batch_id):
    with engine.connect() as conn:
        return release.batch_correlation(conn, batch_id) or "none"


def announced(engine):
    """(correlation id, [(kind, student, old, new)]) of every warnings.changed in the outbox, in order."""
    outbox = tables.MESSAGING[0]
    with engine.connect() as conn:
        rows = conn.execute(select(outbox.c.body).where(outbox.c.type == "warnings.changed").order_by(outbox.c.seq))
        events = [json.loads(body) for body in rows.scalars()]
    return [(e["correlation_id"], [(c["kind"], c["student_id"], c["old_level"], c["new_level"])
                                   for c in e["data"]["changes"]]) for e in events]


def lists_opened(engine):
    """(correlation id, data) of every warnings.release_pending in the outbox."""
    outbox = tables.MESSAGING[0]
    with engine.connect() as conn:
        rows = conn.execute(select(outbox.c.body).where(outbox.c.type == "warnings.release_pending"))
        return [(e["correlation_id"], e["data"]) for e in map(json.loads, rows.scalars())]


def waiting(engine, **kwargs):
    """{batch id: [(student, kind, old, new, status)]} of the batches the review list shows."""
    with engine.connect() as conn:
        batches = release.list_batches(conn, **kwargs)
    return {b["batch_id"]: [(c["student_id"], c["kind"], c["old_level"], c["new_level"], c["release_status"])
                            for c in b["changes"]] for b in batches}


def batch(engine, batch_id):
    with engine.connect() as conn:
        [found] = release.list_batches(conn, batch_id=batch_id, everything=True)
    return found


def standing(engine):
    with engine.connect() as conn:
        return {(w["student_id"], w["semester"]): (w["level"], w["status"], w["policy_version"])
                for w in queries.list_warnings(conn, None, "all")}


def test_a_computed_change_waits_for_review_and_nothing_is_announced(engine):
    changes = take(engine, failing("s1", "AB") + failing("s2", "ABC"), book(), "U1")
    assert sorted((c["student_id"], c["new_level"]) for c in changes) == [("s1", "yellow"), ("s2", "orange")]
    assert waiting(engine) == {1: [("s1", "issued", "none", "yellow", "pending"),
                                   ("s2", "issued", "none", "orange", "pending")]}
    assert announced(engine) == []
    assert standing(engine) == {}          # the warnings list shows what people were told: nothing yet
    opened = [("U1", {"batch_id": 1, "source": "upload", "policy_version": "default-1", "changes": 2,
                      "semesters": [S], "objection_window_hours": 0.0})]
    assert lists_opened(engine) == opened
    take(engine, failing("s3", "AB"), book(), "U1")        # the upload's next record batch joins the list
    assert lists_opened(engine) == opened and list(waiting(engine)) == [1]
    with engine.connect() as conn:
        assert release.released_changes(conn, "U1") == [] and release.waiting_count(conn, "U1") == 3


def test_confirming_announces_the_list_under_its_upload_and_makes_the_warnings_current(engine):
    take(engine, failing("s1", "AB"), book(), "U1")
    pending_id = batch(engine, 1)["changes"][0]["change_id"]
    answer = confirm(engine, 1, book())
    assert (answer["status"], answer["changes"], answer["released"]) == ("released", 1, 1)
    assert announced(engine) == [("U1", [("issued", "s1", "none", "yellow")])]
    assert standing(engine) == {("s1", S): ("yellow", "active", "default-1")}
    released = batch(engine, 1)
    assert (released["status"], released["confirmed_by"]) == ("released", "jwc01")
    assert released["changes"][0]["change_id"] == pending_id      # notices and tasks will name this id
    assert waiting(engine) == {}
    again = confirm(engine, 1, book())
    assert again["status"] == "rejected" and "was released" in again["message"]
    assert confirm(engine, 99, book())["message"].startswith("no release batch 99")


def test_a_second_upload_of_the_same_evaluation_keeps_the_waiting_change(engine):
    take(engine, failing("s1", "AB"), book(), "U1")
    [first] = batch(engine, 1)["changes"]
    assert take(engine, failing("s1", "AB"), book(), "U2") == []
    assert waiting(engine) == {1: [("s1", "issued", "none", "yellow", "pending")]}
    assert batch(engine, 1)["changes"][0]["change_id"] == first["change_id"]


def test_a_correction_while_pending_replaces_the_waiting_change_and_keeps_the_old_one(engine):
    take(engine, failing("s1", "ABC") + failing("s2", "AB"), book(), "U1")
    # The make-up exam: s1 passes A (orange → yellow), s2 passes A (yellow → nothing).
    take(engine, [record("s1", "A", "70", "makeup"), record("s2", "A", "75", "makeup")], book(), "U2")
    assert waiting(engine) == {2: [("s1", "issued", "none", "yellow", "pending")]}
    first = batch(engine, 1)
    assert first["status"] == "superseded"
    assert {(c["student_id"], c["new_level"], c["release_status"], c["superseded_by"]) for c in first["changes"]} == {
        ("s1", "orange", "superseded", "U2"), ("s2", "yellow", "superseded", "U2")}
    assert confirm(engine, 1, book())["status"] == "rejected"
    confirm(engine, 2, book())
    assert announced(engine) == [("U2", [("issued", "s1", "none", "yellow")])]


def test_a_correction_during_the_objection_window_needs_a_new_confirmation(engine):
    take(engine, failing("s1", "AB"), book(WINDOW_2H), "U1")
    assert confirm(engine, 1, book(WINDOW_2H))["status"] == "confirmed"
    take(engine, failing("s1", "ABC"), book(WINDOW_2H), "U2")         # a correction: another failed course
    assert waiting(engine) == {2: [("s1", "issued", "none", "orange", "pending")]}
    assert batch(engine, 1)["status"] == "superseded"
    assert run(engine, release.release_due, 1, NOW + timedelta(hours=3)) is None
    assert announced(engine) == []


def test_an_excluded_student_is_not_announced_and_who_when_why_is_recorded(engine):
    take(engine, failing("s1", "AB") + failing("s2", "ABC"), book(), "U1")
    answer = exclude(engine, 1, "s2", reason="因病缓考，学院另行处理")
    assert answer["status"] == "excluded"
    assert answer["changes"] == [{"semester": S, "kind": "issued", "old_level": "none", "new_level": "orange"}]
    assert waiting(engine) == {1: [("s1", "issued", "none", "yellow", "pending")]}
    confirm(engine, 1, book())
    assert announced(engine) == [("U1", [("issued", "s1", "none", "yellow")])]
    assert ("s2", S) not in standing(engine)
    [excluded] = [c for c in batch(engine, 1)["changes"] if c["student_id"] == "s2"]
    assert (excluded["release_status"], excluded["excluded_by"], excluded["reason"]) == (
        "excluded", "jwc01", "因病缓考，学院另行处理")
    assert excluded["excluded_at"].startswith("2024-09-02T01:00")


def test_an_exclusion_sticks_while_the_level_stays_and_ends_when_it_changes(engine):
    take(engine, failing("s2", "AB"), book(), "U1")
    exclude(engine, 1, "s2")
    confirm(engine, 1, book())
    # A later upload that leaves s2 at yellow: still excluded, nothing waits.
    take(engine, [record("s2", "D", "88")], book(), "U2")
    assert waiting(engine) == {} and announced(engine) == []
    # Another failed course: orange, a new level. The exclusion ends; the change goes from what was announced.
    take(engine, [record("s2", "E", "30")], book(), "U3")
    assert waiting(engine) == {2: [("s2", "issued", "none", "orange", "pending")]}
    [ended] = batch(engine, 1)["changes"]
    assert (ended["release_status"], ended["superseded_by"]) == ("excluded", "U3")


def test_exclusions_that_cannot_be_made_are_refused_with_the_reason(engine):
    take(engine, failing("s1", "AB"), book(), "U1")
    assert "no release batch 5" in exclude(engine, 5, "s1")["message"]
    refused = exclude(engine, 1, "s9")
    assert refused["status"] == "rejected"
    assert "s9 has no change waiting in batch 1 (1 students do" in refused["message"]
    confirm(engine, 1, book())
    assert "was released" in exclude(engine, 1, "s1")["message"]


def test_a_confirmed_list_waits_for_the_objection_window_and_staff_may_still_exclude(engine):
    take(engine, failing("s1", "AB") + failing("s2", "AB"), book(WINDOW_2H), "U1")
    answer = confirm(engine, 1, book(WINDOW_2H))
    assert answer["status"] == "confirmed" and answer["release_at"] == (NOW + timedelta(hours=2)).isoformat()
    assert "was confirmed by jwc01" in confirm(engine, 1, book(WINDOW_2H))["message"]
    assert exclude(engine, 1, "s2", reason="异议成立")["status"] == "excluded"
    with engine.connect() as conn:
        assert release.due_batches(conn, NOW + timedelta(hours=1)) == []
        assert release.due_batches(conn, NOW + timedelta(hours=2)) == [(1, "U1")]
    assert run(engine, release.release_due, 1, NOW + timedelta(hours=1)) is None
    assert announced(engine) == []
    assert run(engine, release.release_due, 1, NOW + timedelta(hours=2)) == 1
    assert run(engine, release.release_due, 1, NOW + timedelta(hours=2)) is None      # another instance: nothing
    assert announced(engine) == [("U1", [("issued", "s1", "none", "yellow")])]


def test_with_review_off_changes_are_announced_at_once(engine):
    off = book(REVIEW_OFF)
    take(engine, failing("s1", "AB"), off, "U1")
    take(engine, [record("s1", "A", "70", "makeup")], off, "U2")
    assert announced(engine) == [("U1", [("issued", "s1", "none", "yellow")]),
                                 ("U2", [("lifted", "s1", "yellow", "none")])]
    assert batch(engine, 1)["confirmed_by"] == "automatic (review off)"
    assert lists_opened(engine) == []
    assert standing(engine) == {("s1", S): ("yellow", "lifted", "default-1")}
    assert waiting(engine) == {}


def test_a_large_release_is_announced_in_several_events(engine, monkeypatch):
    monkeypatch.setattr(release, "EVENT_CHUNK", 2)
    take(engine, failing("s1", "AB") + failing("s2", "AB") + failing("s3", "AB"), book(), "U1")
    confirm(engine, 1, book())
    assert [len(changes) for _, changes in announced(engine)] == [2, 1]


def test_a_lift_and_an_escalation_reach_the_warnings_list_only_when_released(engine):
    take(engine, failing("s1", "AB"), book(), "U1")
    confirm(engine, 1, book())
    take(engine, [record("s1", "A", "70", "makeup"), record("s1", "B", "70", "makeup")], book(), "U2")
    assert standing(engine) == {("s1", S): ("yellow", "active", "default-1")}
    confirm(engine, 2, book())
    assert standing(engine) == {("s1", S): ("yellow", "lifted", "default-1")}
    assert announced(engine)[-1] == ("U2", [("lifted", "s1", "yellow", "none")])
