"""The gateway's nameko service in-process with the real roster service, on the real RabbitMQ and PostgreSQL:
its HTTP entrypoints (one per route of the table) answer over a real socket, sign-in takes roles and scope
from the roster's new staff_member RPC, a service that is not running is a clear 503, and the access log names
routes, not paths."""
from __future__ import annotations

import base64
import logging

import pytest
import requests
from argon2 import PasswordHasher
from nameko.runners import ServiceRunner
from nameko.standalone.rpc import ClusterRpcProxy

from services.gateway import accounts
from services.gateway.domain import passwords
from services.gateway.service import GatewayService
from services.roster.service import RosterService
from shared.db import engine_for
from shared.migrations import upgrade
from tests.support.broker import temporary_vhost
from tests.support.cluster import SAMPLE, free_port
from tests.support.postgres import temporary_databases

pytestmark = pytest.mark.real

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def gateway():
    """One gateway and roster for the module (starting them and importing the roster is the slow part)."""
    with temporary_vhost() as vhost_uri, temporary_databases() as pg_url_template, pytest.MonkeyPatch.context() as mp:
        mp.setenv("AQ_DATABASE_URL", pg_url_template)
        mp.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        yield from _running(vhost_uri, pg_url_template)


def _running(vhost_uri, pg_url_template):
    url = pg_url_template.replace("{service}", "gateway")
    upgrade("gateway", url)
    from datetime import datetime, timezone
    with engine_for("gateway", url).begin() as conn:
        accounts.add_user(conn, "t1001", PASSWORD, datetime.now(timezone.utc), staff_id="T1001")
        accounts.add_user(conn, "ghost", PASSWORD, datetime.now(timezone.utc), staff_id="X9999")
    port = free_port()
    config = {"AMQP_URI": vhost_uri, "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}", "serializer": "json"}
    runner = ServiceRunner(config)
    runner.add_service(RosterService)
    runner.add_service(GatewayService)
    runner.start()
    try:
        roster = SAMPLE / "csv" / "roster"
        with ClusterRpcProxy(config) as proxy:
            files = [{"filename": name, "content_b64": base64.b64encode((roster / name).read_bytes()).decode()}
                     for name in ("staff.csv", "classes.csv", "students.csv")]
            assert proxy.roster.import_files(files, "test")["status"] == "accepted"
            yield f"http://127.0.0.1:{port}", proxy
    finally:
        runner.stop()


def test_sign_in_takes_roles_and_scope_from_the_roster(gateway):
    url, proxy = gateway
    session = requests.Session()
    answer = session.post(f"{url}/api/session", json={"username": "t1001", "password": PASSWORD}, timeout=30)
    assert answer.status_code == 200, answer.text
    me = session.get(f"{url}/api/me", timeout=30).json()
    assert me["role"] == "head_teacher" and me["display_name"] == "蒋涛" and me["scope"]["classes"] == ["机械2101"]
    assert proxy.roster.staff_member("T1001")["classes_led"] == ["机械2101"]
    # A staff id the roster does not know has no roles: no session.
    refused = requests.post(f"{url}/api/session", json={"username": "ghost", "password": PASSWORD}, timeout=30)
    assert refused.status_code == 401 and "not in the roster" in refused.json()["message"]


def test_a_service_that_is_not_running_is_a_503_naming_it(gateway):
    url, _ = gateway
    session = requests.Session()
    csrf = session.post(f"{url}/api/session", json={"username": "t1001", "password": PASSWORD},
                        timeout=30).json()["csrf_token"]
    answer = session.post(f"{url}/api/grades/history", json={"student_id": "210101001"},
                          headers={"X-CSRF-Token": csrf}, timeout=60)
    assert answer.status_code == 503
    assert answer.json()["message"] == "the grades service is not running; try again in a moment"


def test_health_paths_and_the_access_log(gateway, caplog):
    url, proxy = gateway
    with caplog.at_level(logging.INFO):
        assert requests.get(f"{url}/api/health", timeout=30).json() == {"status": "ok"}
        assert requests.get(f"{url}/api/tasks/K-secret-1", timeout=30).status_code == 401
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "GET tasks.show -> 401" in logged and "K-secret-1" not in logged
    assert proxy.gateway.health()["healthy"] is True
    assert requests.get(f"{url}/api/nothing-here", timeout=30).status_code == 404
    # The web interface's paths go to services/gateway/web (or 404 while it is not there); never a 500.
    assert requests.get(f"{url}/ui/", timeout=30).status_code in (200, 302, 303, 401, 404)
