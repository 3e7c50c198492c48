"""The gateway as a user meets it: `aq up` starts it with the six services (processes, real RabbitMQ and
PostgreSQL); accounts are made with `aq users`; staff sign in over HTTP and see what their role covers; a bad
grade file gets the row-by-row report; a good one is followed until its cascade settles; and schemathesis,
driven by the checked-in OpenAPI document, finds no server error anywhere in the API."""
from __future__ import annotations

import base64
import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from services.gateway.openapi import DOCUMENT
from tests.support.broker import temporary_vhost
from tests.support.cluster import SAMPLE, Cluster, sample_uploads, wait_for
from tests.support.postgres import temporary_databases

pytestmark = [pytest.mark.real, pytest.mark.e2e]

PASSWORD = "correct horse battery"
# argon2 with production parameters costs ~1 s per hash on this busy machine; the rules are the same.
CHEAP_HASHES = {"AQ_GATEWAY_ARGON2_MEMORY_KIB": "1024", "AQ_GATEWAY_ARGON2_TIME_COST": "1"}
USERS = {"jwc": "A0001", "t1001": "T1001", "c2021": "C2021", "vicedean": "V0001"}


def students_by_class() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    with open(SAMPLE / "csv" / "roster" / "students.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            found.setdefault(row["班级"], set()).add(row["学号"])
    return found


@pytest.fixture(scope="module")
def college(tmp_path_factory):
    with temporary_vhost() as uri, temporary_databases() as db:
        cluster = Cluster(tmp_path_factory.mktemp("aq-home"), uri, db, extra_env=CHEAP_HASHES)
        for username, staff_id in USERS.items():
            cluster_add_user(cluster, username, "--staff", staff_id)
        cluster_add_user(cluster, "root", "--admin")
        cluster.up()
        try:
            cluster.import_sample_roster()
            cluster.upload(sample_uploads()[0])
            yield cluster
        finally:
            cluster.down()


def cluster_add_user(cluster, username, *options):
    result = subprocess.run([sys.executable, "-m", "aq_cli.main", "users", "add", username, *options,
                             "--password-stdin"], input=PASSWORD + "\n", env=cluster.env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def sign_in(college, username) -> requests.Session:
    session = requests.Session()
    answer = session.post(f"{college.gateway_url}/api/session", json={"username": username, "password": PASSWORD},
                          timeout=30)
    assert answer.status_code == 200, answer.text
    cookie = next(c for c in session.cookies if c.name == "aq_session")
    assert cookie.has_nonstandard_attr("HttpOnly") and cookie.path == "/"
    session.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
    return session


def test_staff_see_what_their_role_covers(college):
    url = college.gateway_url
    classes = students_by_class()
    head_teacher = sign_in(college, "t1001")
    me = head_teacher.get(f"{url}/api/me", timeout=30).json()
    assert me["role"] == "head_teacher" and "机械2101" in me["scope"]["classes"]
    warned = head_teacher.get(f"{url}/api/warnings", params={"status": "all"}, timeout=30).json()["warnings"]
    everyone = sign_in(college, "vicedean").get(f"{url}/api/warnings", params={"status": "all"},
                                                 timeout=30).json()["warnings"]
    mine = {w["student_id"] for w in everyone if w["class_name"] in me["scope"]["classes"]}
    assert everyone and {w["student_id"] for w in warned} == mine
    assert {w["class_name"] for w in warned} <= set(me["scope"]["classes"])
    outsider = next(s for c, ids in classes.items() if c not in me["scope"]["classes"] for s in ids)
    refused = head_teacher.post(f"{url}/api/grades/history", json={"student_id": outsider}, timeout=30)
    assert refused.status_code == 403
    # The vice dean's reads were written to the audit log: who, what, when.
    audit = json.loads(college.aq("users", "audit", "--actor", "user:vicedean", "--json").stdout)
    assert [a["action"] for a in audit] == ["read:warnings.list"] and audit[0]["at"]


def test_a_bad_grade_file_gets_its_rows_and_a_good_one_is_followed_to_the_end(college, tmp_path):
    url = college.gateway_url
    staff = sign_in(college, "jwc")
    lines = sample_uploads()[2].read_text(encoding="utf-8").splitlines()
    bad = "\n".join([lines[0], lines[1].replace(",70,", ",abc,", 1) if ",70," in lines[1] else lines[1],
                     "999,nobody," + lines[2].split(",", 2)[2]]) + "\n"
    answer = staff.post(f"{url}/api/grades/uploads", timeout=120, json={
        "filename": "bad.csv", "content_b64": base64.b64encode(bad.encode()).decode()})
    assert answer.status_code == 422, answer.text
    rows = {(p["file"], p["row"]) for p in answer.json()["errors"]}
    assert ("bad.csv", 3) in rows and all(p["reason"] for p in answer.json()["errors"])

    good = sample_uploads()[1]
    with open(good, "rb") as f:
        answer = staff.post(f"{url}/api/grades/uploads", files={"file": (good.name, f)},
                            data={"csrf_token": staff.headers["X-CSRF-Token"]}, timeout=120)
    assert answer.status_code == 201, answer.text
    upload_id = answer.json()["upload_id"]

    def settled():
        status = staff.get(f"{url}/api/uploads/{upload_id}/status", timeout=30).json()
        assert not status["stuck"], status
        return status["settled"] and status
    status = wait_for(settled, timeout=120, interval=0.5, message="the upload's cascade to settle")
    assert f"upload {upload_id}" in status["tree"]


def test_a_policy_tried_over_http_answers_what_aq_policy_what_if_answers(college):
    """The what-if route is the warnings service's answer as the CLI gets it (a multipart file, like the web page
    sends); the vice dean may try a policy but not install one."""
    policy = Path(__file__).resolve().parents[2] / "services" / "warnings" / "policies" / "with-dismissal.yml"
    cli = json.loads(college.aq("policy", "what-if", str(policy), "--json").stdout)
    vice_dean = sign_in(college, "vicedean")
    with open(policy, "rb") as f:
        answer = vice_dean.post(f"{college.gateway_url}/api/policies/what-if", files={"file": (policy.name, f)},
                                data={"csrf_token": vice_dean.headers["X-CSRF-Token"]}, timeout=120)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["students"] == cli["students"] > 0 and body["by_level"] == cli["by_level"]
    assert body["by_kind"] == cli["by_kind"] and len(body["changes"]) == len(cli["changes"])
    refused = vice_dean.post(f"{college.gateway_url}/api/policies", json={"policy_text": policy.read_text()},
                             timeout=30)
    assert refused.status_code == 403


def test_no_server_error_anywhere_in_the_api(college, tmp_path):
    """schemathesis generates requests from openapi.yaml (examples, edge cases, random data) for every
    operation, as academic affairs (API token) and as the admin (session cookie + CSRF header)."""
    token = college.aq("users", "tokens", "create", "--name", "fuzz", "--role", "academic_affairs").stdout.strip()
    admin = sign_in(college, "root")
    cookie = next(c for c in admin.cookies if c.name == "aq_session")
    as_admin = ["-H", f"Cookie: aq_session={cookie.value}", "-H", f"X-CSRF-Token: {admin.headers['X-CSRF-Token']}",
                "--exclude-operation-id", "session.sign_out"]
    for name, auth in (("academic_affairs", ["-H", f"Authorization: Bearer {token}"]), ("admin", as_admin)):
        report = tmp_path / f"{name}.txt"
        result = subprocess.run(
            [str(Path(sys.executable).with_name("schemathesis")), "run", str(DOCUMENT), "--url", college.gateway_url,
             "--checks", "not_a_server_error", "--max-examples", "4", "--phases", "examples,fuzzing",
             "--workers", "2", "--request-timeout", "60", "--suppress-health-check", "all",
             "--exclude-operation-id", "report.semester_document", "--generation-database", "none",
             # A fixed seed keeps CI reproducible; AQ_FUZZ_SEED=<n> (or a new default) explores other inputs.
             "--seed", os.environ.get("AQ_FUZZ_SEED", "20261127"), *auth],
            capture_output=True, text=True, timeout=600, env={**college.env, "PYTHONWARNINGS": "ignore"},
            cwd=tmp_path)     # schemathesis keeps a cache folder where it runs
        report.write_text(result.stdout + result.stderr)
        assert result.returncode == 0, f"{name}:\n{result.stdout[-6000:]}\n{result.stderr[-2000:]}\n" \
                                       f"{college.logs_tail(20)}"
