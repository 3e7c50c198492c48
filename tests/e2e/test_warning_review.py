"""Warnings as a workflow, through the whole system (six services as OS processes, real RabbitMQ and PostgreSQL,
driven through `aq` as academic-affairs staff would): a computed list waits for review; a correction replaces what
waits; an excluded student is not announced and the exclusion is recorded; confirmed warnings are announced and
the notices and tasks follow; a new policy version re-evaluates everybody, announces only real changes, records its
version, and waits out the objection window."""
import json
import time
from datetime import datetime

import pytest
import yaml

from services.warnings.domain.policy import DEFAULT_POLICY_PATH
from tests.support.broker import temporary_vhost
from tests.support.cluster import SAMPLE, Cluster, sample_uploads, wait_for
from tests.support.postgres import temporary_databases

pytestmark = [pytest.mark.real, pytest.mark.e2e]

EXPECTED = json.loads((SAMPLE / "expected.json").read_text())
S1 = "2021-2022-1"                      # the sample's first semester: regular exams, then make-ups
WARNING_TASKS = {"talk", "parent_contact", "counselor_talk"}
WINDOW_HOURS = 0.002                    # an objection window of 7.2 seconds
REASON = "已因病办理缓考，学院另行约谈"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with temporary_vhost() as uri, temporary_databases() as db:
        cluster = Cluster(tmp_path_factory.mktemp("aq-review"), uri, db, review=True,
                          extra_env={"AQ_WARNINGS_RELEASE_POLL_SECONDS": "0.5"})
        cluster.up()
        try:
            cluster.import_sample_roster()
            yield cluster
        finally:
            cluster.down()


def change(c) -> tuple:
    return c["kind"], c["student_id"], c["semester"], c["old_level"], c["new_level"]


def announced(cluster, correlation_id) -> list[dict]:
    with cluster.rpc() as rpc:
        return rpc.call("warnings", "trace", correlation_id)["changes"]


def test_a_list_waits_for_review_a_correction_replaces_it_and_only_confirmed_warnings_are_announced(cluster):
    # What the sample college's files give at S1 (expected.json, worked out from policy.md by hand).
    issued_by_regular_exams = sorted(tuple(e) for e in EXPECTED["event_list"] if e[2] == S1 and e[0] == "issued")
    final = {key.split("|")[0]: v["level"] for key, v in EXPECTED["levels"].items() if key.endswith("|" + S1)}
    assert issued_by_regular_exams and final

    first = cluster.upload(sample_uploads()[0])
    [batch] = cluster.json("warnings", "pending")
    assert (batch["status"], batch["correlation_id"]) == ("pending", first)
    assert sorted(change(c) for c in batch["changes"]) == issued_by_regular_exams
    with cluster.rpc() as rpc:          # nobody has been told anything
        assert rpc.call("warnings", "list_warnings", None, "all") == []
        # ... except academic affairs, who are asked to review the list
        told = wait_for(lambda: [n for n in rpc.call("notification", "list_notices", None, ["sent"])
                                 if not n["cause"].startswith("flag:")], message="the request to review the list")
        assert {(n["kind"], n["recipient_id"], n["cause"]) for n in told} == {
            ("review_pending", "A0001", f"review_pending:{batch['batch_id']}")}
        assert not [t for t in rpc.call("advising", "list_tasks", None, "all") if t["kind"] in WARNING_TASKS]
    assert announced(cluster, first) == []

    # Staff exclude a student whose level the make-up exams will not change: the exclusion must stick.
    student = next(c[1] for c in issued_by_regular_exams if final.get(c[1]) == c[4])
    out = cluster.aq("warnings", "exclude", str(batch["batch_id"]), student, "--reason", REASON, "--by", "jwc01")
    assert f"student {student} excluded from batch {batch['batch_id']}" in out.stdout
    refused = cluster.aq("warnings", "exclude", str(batch["batch_id"]), "209999999", "--reason", "x", "--by", "jwc01",
                         check=False)
    assert refused.returncode == 1 and "209999999 has no change waiting" in refused.stderr

    # The make-up exams arrive before anyone confirmed: what waits now goes from "nothing announced" to the newest
    # evaluation, for everybody but the excluded student.
    second = cluster.upload(sample_uploads()[1])
    waiting = sorted(change(c) for b in cluster.json("warnings", "pending") for c in b["changes"])
    expected_now = sorted(("issued", sid, S1, "none", level) for sid, level in final.items() if sid != student)
    assert waiting == expected_now
    [old] = cluster.json("warnings", "pending", "--batch", str(batch["batch_id"]), "--all")
    replaced = {c["student_id"] for c in old["changes"] if c["release_status"] == "superseded"}
    assert replaced == {c[1] for c in issued_by_regular_exams if final.get(c[1]) != c[4]}
    assert {c["superseded_by"] for c in old["changes"] if c["release_status"] == "superseded"} == {second}
    [kept] = [c for c in old["changes"] if c["student_id"] == student]
    assert (kept["release_status"], kept["excluded_by"], kept["reason"]) == ("excluded", "jwc01", REASON)
    assert datetime.fromisoformat(kept["excluded_at"]).year >= 2024

    # Confirmed: announced under the uploads that computed them; notices and tasks follow for exactly those.
    cluster.confirm_pending()
    released = announced(cluster, first) + announced(cluster, second)
    assert sorted(change(c) for c in released) == expected_now
    assert cluster.json("warnings", "pending") == []
    with cluster.rpc() as rpc:
        active = {(w["student_id"], w["level"]) for w in rpc.call("warnings", "list_warnings", S1, "active")}
        notices = [n for n in rpc.call("notification", "list_notices")
                   if not n["cause"].startswith(("flag:", "review_pending:"))]
        tasks = [t for t in rpc.call("advising", "list_tasks", None, "all") if t["kind"] in WARNING_TASKS]
    assert active == {(sid, level) for sid, level in final.items() if sid != student}
    assert {n["cause"] for n in notices} == {c["change_id"] for c in released}
    students_told = {n["recipient_id"] for n in notices if n["recipient_kind"] == "student"}
    assert students_told == {c["student_id"] for c in released}
    assert {n["status"] for n in notices} == {"sent"}
    assert {t["student_id"] for t in tasks} == {c["student_id"] for c in released}
    assert student not in {t["student_id"] for t in tasks}
    assert "warnings.changed" in cluster.aq("trace", second).stdout


def install(cluster, tmp_path, policy: dict, check=True):
    path = tmp_path / f"{policy['version']}.yml"
    path.write_text(yaml.safe_dump(policy, allow_unicode=True), encoding="utf-8")
    return cluster.aq("warnings", "policy-install", str(path), "--by", "jwc01", check=check)


def test_a_new_policy_version_reevaluates_everybody_and_its_changes_wait_out_the_objection_window(cluster, tmp_path):
    cluster.upload(sample_uploads()[2])
    cluster.confirm_pending()
    with cluster.rpc() as rpc:
        before = rpc.call("warnings", "list_warnings", None, "active")
    assert before, "the sample's uploads warned somebody"
    base = yaml.safe_load(DEFAULT_POLICY_PATH.read_text(encoding="utf-8"))

    # default-2: the same rules, a new version and an objection window. No level changes: nothing is announced,
    # every warning now names default-2.
    window = {"objection_window_hours": WINDOW_HOURS}
    out = install(cluster, tmp_path, {**base, "version": "default-2", "review": window}).stdout
    assert "policy default-2 installed (was default-1)" in out and ", 0 changes" in out
    with cluster.rpc() as rpc:
        now = rpc.call("warnings", "list_warnings", None, "active")
    assert [(w["student_id"], w["semester"], w["level"]) for w in now] == \
           [(w["student_id"], w["semester"], w["level"]) for w in before]
    assert {w["policy_version"] for w in now} == {"default-2"}
    assert cluster.json("warnings", "pending") == []
    assert "already in force" in install(cluster, tmp_path, {**base, "version": "default-2", "review": window}).stdout
    lower = install(cluster, tmp_path, base, check=False)
    assert lower.returncode == 1 and "does not come after the version in force, 'default-2'" in lower.stderr
    unusable = install(cluster, tmp_path, {**base, "version": "default-3", "rules": {"no_such_rule": {}}}, check=False)
    assert unusable.returncode == 1 and "no_such_rule" in unusable.stderr

    # default-3: a threshold nobody reaches. Every announced warning is to be lifted — after review and the window.
    nobody = {"unresolved_failed_credits": {"thresholds": {"yellow": 1000}}}
    out = install(cluster, tmp_path, {**base, "version": "default-3", "rules": nobody, "review": window}).stdout
    assert f", {len(before)} changes; waiting for review" in out
    [batch] = cluster.json("warnings", "pending")
    assert batch["correlation_id"] == "policy:default-3"
    assert sorted(change(c) for c in batch["changes"]) == sorted(
        ("lifted", w["student_id"], w["semester"], w["level"], "none") for w in before)
    assert {c["policy_version"] for c in batch["changes"]} == {"default-3"}

    out = cluster.aq("warnings", "confirm", str(batch["batch_id"]), "--by", "jwc01").stdout
    assert "after the objection window" in out
    with cluster.rpc() as rpc:          # confirmed, not yet announced
        assert len(rpc.call("warnings", "list_warnings", None, "active")) == len(before)
    with cluster.rpc() as rpc:
        wait_for(lambda: not rpc.call("warnings", "list_warnings", None, "active"), timeout=60,
                 message="the release after the objection window")
    cluster.aq("wait", "policy:default-3", "--timeout", "120")
    [released] = cluster.json("warnings", "pending", "--batch", str(batch["batch_id"]), "--all")
    assert released["status"] == "released"
    confirmed_at, release_at = (datetime.fromisoformat(released[k]) for k in ("confirmed_at", "release_at"))
    assert abs((release_at - confirmed_at).total_seconds() - WINDOW_HOURS * 3600) < 0.01
    assert datetime.fromisoformat(released["released_at"]) >= release_at
    lifted = announced(cluster, "policy:default-3")
    assert len(lifted) == len(before)
    with cluster.rpc() as rpc:
        notices = rpc.call("notification", "list_notices")
        warnings = rpc.call("warnings", "list_warnings", None, "lifted")
    told = {}
    for n in notices:
        told.setdefault(n["cause"], set()).add(n["recipient_kind"])
    for c in lifted:            # policy.md §6: a lift is told to the student, the parent and the head teacher
        assert told[c["change_id"]] == {"student", "guardian", "head_teacher"}
    assert {w["policy_version"] for w in warnings if (w["student_id"], w["semester"]) in
            {(c["student_id"], c["semester"]) for c in lifted}} == {"default-3"}
    versions = cluster.json("warnings", "policies")
    assert versions["in_force"] == "default-3"
    assert [(v["version"], v["installed_by"]) for v in versions["installed"]] == [("default-2", "jwc01"),
                                                                                 ("default-3", "jwc01")]
