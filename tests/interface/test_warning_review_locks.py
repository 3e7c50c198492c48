"""Review before release on the real PostgreSQL, with workers side by side (green threads, as nameko runs them):
the record batches of one upload evaluate concurrently yet land in ONE pending list; a confirmation is refused
while an evaluation of the same upload is underway (staff confirm a complete list); an installation waits for
evaluations in progress, which then see the new version."""
import eventlet
import pytest
from sqlalchemy import select

from services.warnings import handlers, release, tables
from services.warnings.domain.policy import DEFAULT_POLICY_PATH
from services.warnings.policy_store import PolicyBook, lock_policy
from shared.db import engine_for
from shared.messaging.unit_of_work import UnitOfWork
from shared.migrations import upgrade
from tests.unit.warnings.test_review_flow import NOW, failing

pytestmark = pytest.mark.real

TEXT = DEFAULT_POLICY_PATH.read_text(encoding="utf-8")


@pytest.fixture
def engine(pg_url_template):
    url = pg_url_template.replace("{service}", "warnings")
    upgrade("warnings", url)
    return engine_for("warnings", url)


def take(engine, records, correlation="U1"):
    with UnitOfWork(engine, "warnings", tables.MESSAGING, correlation_id=correlation) as uow:
        return handlers.take_records(uow, records, PolicyBook(fallback_text=TEXT), NOW)


def batches(engine):
    b, c = tables.release_batches, tables.warning_changes
    with engine.connect() as conn:
        return {row.batch_id: (row.status, sorted(conn.execute(select(c.c.student_id).where(
            c.c.batch_id == row.batch_id, c.c.release_status != "superseded")).scalars()))
            for row in conn.execute(select(b.c.batch_id, b.c.status))}


def test_the_record_batches_of_one_upload_evaluated_side_by_side_make_one_list(engine):
    first = UnitOfWork(engine, "warnings", tables.MESSAGING, correlation_id="U1").__enter__()
    try:
        handlers.take_records(first, failing("s0", "AB"), PolicyBook(fallback_text=TEXT), NOW)   # opens the list
        second = eventlet.spawn(take, engine, failing("s1", "AB"))
        eventlet.sleep(0.5)
        assert not second.dead           # waits to see the list the first one opened, instead of opening another
    finally:
        first.__exit__(None, None, None)
    assert len(second.wait()) == 1
    others = [eventlet.spawn(take, engine, failing(s, "AB")) for s in ("s2", "s3", "s4", "s5")]
    assert all(len(w.wait()) == 1 for w in others)
    assert batches(engine) == {1: ("pending", ["s0", "s1", "s2", "s3", "s4", "s5"])}


def test_a_confirmation_is_refused_while_the_upload_is_still_being_evaluated(engine):
    take(engine, failing("s1", "AB"))
    policy_book = PolicyBook(fallback_text=TEXT)

    def confirm():
        with UnitOfWork(engine, "warnings", tables.MESSAGING, correlation_id="U1") as uow:
            return release.confirm(uow, 1, "jwc01", policy_book.fallback.policy, NOW)

    evaluating = UnitOfWork(engine, "warnings", tables.MESSAGING, correlation_id="U1").__enter__()
    try:
        handlers.take_records(evaluating, failing("s2", "AB"), policy_book, NOW)    # not committed yet
        refused = eventlet.spawn(confirm).wait()
    finally:
        evaluating.__exit__(None, None, None)
    assert refused["status"] == "rejected" and "records of U1 are still being evaluated" in refused["message"]
    assert batches(engine) == {1: ("pending", ["s1", "s2"])}
    answer = confirm()                        # the upload settled: the whole list goes out
    assert (answer["status"], answer["released"]) == ("released", 2)
    assert batches(engine) == {1: ("released", ["s1", "s2"])}


def test_an_installation_waits_for_evaluations_in_progress_which_then_see_the_new_version(engine):
    stricter = TEXT.replace('version: "default-1"', 'version: "default-2"').replace(
        "thresholds: {yellow: 8, orange: 12}", "thresholds: {yellow: 4, orange: 8}")
    take(engine, failing("s1", "A"))                 # one failed course: nothing under default-1
    holding = UnitOfWork(engine, "warnings", tables.MESSAGING, correlation_id="U2").__enter__()
    try:
        lock_policy(holding.conn)                     # an evaluation underway holds the policy lock, shared

        def install():
            with UnitOfWork(engine, "warnings", tables.MESSAGING, correlation_id="policy:default-2") as uow:
                return handlers.install_policy(uow, stricter, "jwc01", PolicyBook(fallback_text=TEXT), NOW)

        installing = eventlet.spawn(install)
        eventlet.sleep(0.5)
        assert not installing.dead                    # waiting for the evaluation
    finally:
        holding.__exit__(None, None, None)
    assert installing.wait()["status"] == "installed"
    assert [c["new_level"] for c in take(engine, failing("s2", "A"), correlation="U3")] == ["yellow"]
