"""The gateway without nameko or a broker: the route table behind werkzeug's own router (as nameko's WebServer
does it), a real SQLite gateway database, and the services stood in for by a small college in memory.

    app = GatewayApp(tmp_path)           # app.services: the stand-in; app.gateway: runtime.Gateway
    client = app.client()                # werkzeug test Client (keeps cookies)
    app.add_user("t1001", staff_id="T1001")
    app.sign_in(client, "t1001")         # returns the CSRF token for the session
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.test import Client
from werkzeug.wrappers import Request

from argon2 import PasswordHasher

from services.gateway import accounts
from services.gateway.domain import passwords
from services.gateway.context import Context, unavailable
from services.gateway.dispatch import handle_http
from services.gateway.routes import all_routes
from services.gateway.runtime import Gateway
from services.gateway.settings import Settings
from shared.db import engine_for
from shared.migrations import upgrade

PASSWORD = "correct horse battery"

# The production argon2 parameters (64 MiB, 3 passes) cost about a second per hash on a busy 2-core machine;
# these tests are about the rules, not the hash's strength (test_gateway_domain checks the real parameters).
passwords._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
accounts._DUMMY_HASH = passwords.hash_password("not-a-real-password-0")

# A small college: two classes of 2021 (majors M-mech, M-elec) and one of 2022 (M-mech).
CLASSES = [
    {"class_name": "机械2101", "major": "机械", "cohort": 2021, "head_teacher_id": "T1001", "enrolled": 2},
    {"class_name": "电气2101", "major": "电气", "cohort": 2021, "head_teacher_id": "T1002", "enrolled": 1},
    {"class_name": "机械2201", "major": "机械", "cohort": 2022, "head_teacher_id": "T1003", "enrolled": 1},
]
STUDENTS = {
    "2021001": {"name": "张三", "class_name": "机械2101"},
    "2021002": {"name": "李四", "class_name": "机械2101"},
    "2021101": {"name": "王五", "class_name": "电气2101"},
    "2022001": {"name": "赵六", "class_name": "机械2201"},
}
STAFF = {
    "T1001": ("蒋涛", [("head_teacher", ["机械2101"])]),
    "T1002": ("郑辉", [("head_teacher", ["电气2101"])]),
    "T1003": ("田军", [("head_teacher", ["机械2201"])]),
    "C2021": ("余丽明", [("counselor", ["2021"])]),
    "D机械": ("李建", [("department_head", ["机械"])]),
    "V0001": ("冯霞", [("vice_dean", ["学院"])]),
    "S0001": ("钱副书记", [("deputy_secretary", ["学院"])]),
    "A0001": ("黄敏", [("academic_affairs", ["学院"])]),
}
# One user per role for the authorization matrix (the admin has no staff id).
ROLE_USERS = {"head_teacher": ("t1001", "T1001"), "counselor": ("c2021", "C2021"),
              "department_head": ("dmech", "D机械"), "vice_dean": ("v0001", "V0001"),
              "deputy_secretary": ("s0001", "S0001"), "academic_affairs": ("a0001", "A0001"), "admin": ("root", None)}


def _responsible(student_id):
    student = STUDENTS.get(student_id)
    if not student:
        return None
    cls = next(c for c in CLASSES if c["class_name"] == student["class_name"])
    return {"student_id": student_id, "name": student["name"], "class_name": cls["class_name"], "status": "enrolled",
            "major": cls["major"], "cohort": cls["cohort"], "head_teacher_id": cls["head_teacher_id"],
            "counselor_id": "C2021" if cls["cohort"] == 2021 else None,
            "department_head_id": "D机械" if cls["major"] == "机械" else None, "vice_dean_id": "V0001"}


def _task(task_id, student_id, assignee, kind="talk"):
    info = _responsible(student_id)
    return {"task_id": task_id, "kind": kind, "assignee": assignee, "student_id": student_id,
            "class_name": info["class_name"], "major": info["major"], "cohort": info["cohort"], "course_code": None,
            "semester": "2023-2024-1", "due": "2024-01-10", "status": "open", "note": None, "cause": "w1",
            "detail": {}, "record": None, "duty_role": "head_teacher", "holder_role": "head_teacher",
            "escalated_to": None, "escalated_at": None, "outcome": None, "closed_by": None, "closed_at": None,
            "history": []}


def _pending_change(change_id, student_id):
    return {"change_id": f"c{change_id}", "student_id": student_id, "semester": "2023-2024-1", "kind": "issued",
            "old_level": "none", "new_level": "yellow", "escalated": False, "policy_version": "v1",
            "reasons": [{"rule": "gpa", "level": "yellow", "measure": 1.9, "threshold": 2.0, "comparison": "<",
                         "courses": []}], "rules": ["gpa"], "release_status": "pending", "batch_id": 7,
            "correlation_id": "U-1", "excluded_by": None, "excluded_at": None, "reason": None,
            "superseded_by": None, "computed_at": "2024-02-01T00:00:00+00:00", "released_at": None}


class FakeServices:
    """ctx.rpc's stand-in: the six services' RPC methods answered from the small college above. Every call is
    recorded; ``answers[(service, method)]`` overrides an answer (a value, or a callable taking the kwargs)."""

    def __init__(self):
        self.calls: list[tuple[str, str, dict]] = []
        self.answers: dict[tuple[str, str], object] = {}
        self.down: set[str] = set()
        self.tasks = {t["task_id"]: t for t in (_task("K1", "2021001", "T1001"), _task("K2", "2022001", "T1003"),
                                                _task("K3", "2021101", "T1002"))}
        self.warnings = [{"student_id": sid, "semester": "2023-2024-1", "level": "yellow", "status": "active",
                          "escalated": False, "rules": ["semester_failed_credits"], "reasons": [],
                          "policy_version": "v1", "updated_at": "2024-02-01T00:00:00+00:00"} for sid in STUDENTS]
        self.notices = [{"notice_id": f"N-{sid}", "kind": "warning_formal", "recipient_kind": "guardian",
                         "recipient_id": f"guardian:{sid}", "channel": "email", "cause": "w1", "status": "failed",
                         "attempts": 3, "last_error": "550 mailbox guardian@example.com unknown (13812345678)",
                         "requires_acknowledgement": True, "subject": "学业预警", "correlation_id": "U-1",
                         "event_id": "e1", "locale": "zh", "fallback_of": None, "fallbacks": None,
                         "provider_ref": None, "created_at": "2024-02-01T00:00:00+00:00", "sent_at": None,
                         "next_attempt_at": None, "text": f"家长您好，联系电话 13912345678，{STUDENTS[sid]['name']}",
                         "html": "<p>x</p>", "short_text": "x"} for sid in STUDENTS]
        self.notices.append({**self.notices[0], "notice_id": "N-staff", "recipient_kind": "head_teacher",
                             "recipient_id": "T1002", "text": "任务提醒"})

    def __call__(self, service: str, method: str, kwargs: dict):
        self.calls.append((service, method, kwargs))
        if service in self.down:
            raise unavailable(service, "is not running")
        override = self.answers.get((service, method))
        if override is not None:
            return override(**kwargs) if callable(override) else override
        handler = getattr(self, f"{service}_{method}", None)
        if handler is None:
            return {"status": "ok"}
        return handler(**kwargs)

    def called(self, service: str, method: str) -> list[dict]:
        return [kw for s, m, kw in self.calls if (s, m) == (service, method)]

    # roster
    def roster_staff_member(self, staff_id):
        if staff_id not in STAFF:
            return None
        name, roles = STAFF[staff_id]
        return {"staff_id": staff_id, "name": name, "roles": [{"role": r, "scope": s} for r, s in roles],
                "classes_led": [c["class_name"] for c in CLASSES if c["head_teacher_id"] == staff_id]}

    def roster_responsibles(self, student_ids):
        return {sid: _responsible(sid) for sid in student_ids if sid in STUDENTS}

    def roster_classes(self):
        return CLASSES

    def roster_import_files(self, files, imported_by):
        return {"status": "accepted", "import_id": "R-1", "counts": {"classes": 1, "students": 1, "staff": 1},
                "changed": {"classes": 0, "students": 1, "staff": 0}}

    # grades
    def grades_upload(self, filename, content_b64, uploaded_by, sheet=None):
        return {"status": "accepted", "upload_id": "U-1", "rows": 2, "new": 2, "corrected": 0, "unchanged": 0,
                "batches": 1, "stored": True}

    def grades_history(self, student_id, course_code=None):
        return [{"student_id": student_id, "semester": "2023-2024-1", "course_code": "C1", "course_name": "高数",
                 "credits": 4.0, "course_type": "required", "exam_type": "regular", "score": "55", "teacher": "t",
                 "offering_college": "", "upload_id": "U-1", "filename": "g.csv", "first_score": "55",
                 "corrections": []}]

    # warnings
    def warnings_list_warnings(self, semester=None, status="active"):
        return self.warnings

    # review before release: one pending batch of the upload U-1 with two students of two cohorts
    def warnings_list_pending(self, semester=None, batch_id=None, everything=False):
        changes = [_pending_change(1, "2021001"), _pending_change(2, "2022001")]
        batch = {"batch_id": 7, "correlation_id": "U-1", "status": "pending", "created_at": "2024-02-01T00:00:00+00:00",
                 "confirmed_by": None, "confirmed_at": None, "release_at": None, "released_at": None,
                 "counts": {"pending": 2}, "changes": changes}
        return [batch] if batch_id in (None, 7) else []

    def warnings_confirm_batch(self, batch_id, confirmed_by):
        return {"status": "released", "batch_id": batch_id, "correlation_id": "U-1", "changes": 2,
                "release_at": "2024-02-01T00:00:00+00:00", "released": 2}

    def warnings_exclude_student(self, batch_id, student_id, reason, excluded_by):
        if student_id not in ("2021001", "2022001"):
            return {"status": "rejected", "message": f"student {student_id} has no change waiting in batch {batch_id}"}
        return {"status": "excluded", "batch_id": batch_id, "student_id": student_id,
                "changes": [{"semester": "2023-2024-1", "kind": "issued", "old_level": "none", "new_level": "yellow"}]}

    def warnings_what_if(self, policy_text, semester=None, source="policy"):
        if "version" not in policy_text:
            return {"status": "invalid", "error": f"{source}: version must be a non-empty string"}
        counts = {"issued": 1, "escalated": 0, "downgraded": 0, "lifted": 0, "total": 1}
        return {"status": "ok", "current_policy": "default-1", "candidate_policy": "lower-1", "semester": semester,
                "students": 4, "changes": [{"student_id": "2021001", "name": "张三", "cohort": "2021",
                                            "class_name": "机械2101", "semester": "2023-2024-1", "kind": "issued",
                                            "old_level": "none", "new_level": "yellow", "rules": ["gpa"]}],
                "by_kind": counts, "by_level": {lv: {"today": 0, "candidate": int(lv == "yellow"),
                                                     "difference": int(lv == "yellow")}
                                                for lv in ("yellow", "orange", "red", "dismissal")},
                "by_cohort": {"2021": counts}, "by_class": {"机械2101": counts}}

    def warnings_install_policy(self, policy_text, installed_by):
        return {"status": "installed", "version": "lower-1", "previous": "default-1", "students": 4, "changes": 1,
                "correlation_id": "policy:lower-1", "review_required": True}

    def warnings_list_policies(self):
        return {"in_force": "default-1", "installed": [], "review_required": True, "objection_window_hours": 0.0}

    # a student's history (aq warnings history's three parts)
    def warnings_history(self, student_id):
        return {"student_id": student_id, "standings": [
            {"semester": "2023-2024-1", "level": "yellow", "status": "active", "escalated": False,
             "policy_version": "v1", "updated_at": "2024-02-01T00:00:00+00:00"}],
            "changes": [{"change_id": "c1", "semester": "2023-2024-1", "kind": "issued", "old_level": "none",
                         "new_level": "yellow", "escalated": False, "policy_version": "v1", "correlation_id": "U-1",
                         "batch_id": 7, "release_status": "released", "decided_by": None, "decision_note": None,
                         "superseded_by": None, "created_at": "2024-02-01T00:00:00+00:00", "decided_at": None,
                         "released_at": "2024-02-02T00:00:00+00:00",
                         "reasons": [{"rule": "semester_failed_credits", "level": "yellow", "measure": 9.0,
                                      "threshold": 8.0, "comparison": ">=", "courses": [{"course_code": "C1"}]}]}]}

    def notification_notices_for_student(self, student_id):
        return {"student_id": student_id, "notices": [
            {"notice_id": "N1", "kind": "warning_formal", "recipient_kind": "guardian",
             "recipient_id": f"guardian:{student_id}", "channel": "email", "cause": "c1", "status": "sent",
             "created_at": "2024-02-02T00:05:00+00:00", "sent_at": "2024-02-02T00:05:00+00:00"}],
            "acknowledgements": []}

    def advising_tasks_for_student(self, student_id):
        task = {**_task("K9", student_id, "T1001"), "created_at": "2024-02-02T00:06:00+00:00",
                "record": {"date": "2024-02-05", "discussion": "家长电话 13812345678，已约定复习计划"},
                "history": [{"at": "2024-02-05T08:00:00+00:00", "action": "closed", "actor": "T1001", "detail": {}}]}
        return {"student_id": student_id, "tasks": [task], "lists": []}

    # counselor lists: cohort 2021's list (both of its classes), sent to the counselor and each head teacher
    def advising_list_lists(self, semester=None, cohort=None, status="all", confirmer=None):
        return [{k: v for k, v in self.counselor_list().items() if k != "entries"}]

    def advising_get_list(self, list_id):
        return self.counselor_list() if list_id == "CL-1" else None

    def advising_confirm_list(self, list_id, confirmed_by, comment=None):
        if confirmed_by != "C2021":
            return {"status": "rejected", "message": f"list {list_id} is confirmed by the cohort's counselor C2021"}
        return {"status": "confirmed", "list_id": list_id, "version": 1, "semester": "2023-2024-1", "cohort": "2021",
                "task_id": "K-CL"}

    @staticmethod
    def counselor_list():
        entries = [{"student_id": sid, "name": STUDENTS[sid]["name"], "class_name": STUDENTS[sid]["class_name"],
                    "major": _responsible(sid)["major"], "status": "enrolled", "level": "yellow", "escalated": False,
                    "reasons": [{"rule": "gpa", "level": "yellow", "measure": 1.9, "threshold": 2.0,
                                 "comparison": "<"}],
                    "failed_courses": [], "failed_credits": 0.0} for sid in ("2021001", "2021101")]
        recipients = [{"staff_id": "C2021", "role": "counselor", "covering_for": None, "scope": ["2021"],
                       "student_ids": ["2021001", "2021101"]},
                      {"staff_id": "T1001", "role": "head_teacher", "covering_for": None, "scope": ["机械2101"],
                       "student_ids": ["2021001"]},
                      {"staff_id": "T1002", "role": "head_teacher", "covering_for": None, "scope": ["电气2101"],
                       "student_ids": ["2021101"]}]
        return {"list_id": "CL-1", "semester": "2023-2024-1", "cohort": "2021", "version": 1, "students": 2,
                "warned": 2, "failed": 0, "changes": {"added": ["2021001", "2021101"], "removed": []},
                "recipients": recipients, "confirmer": "C2021", "task_id": "K-CL",
                "correlation_id": "U-1", "created_at": "2024-02-03T00:00:00+00:00", "confirmed_by": None,
                "confirmed_at": None, "comment": None, "status": "unconfirmed", "entries": entries}

    # notification
    def notification_list_notices(self, recipient_id=None, statuses=None, correlation_id=None, kinds=None):
        return [n for n in self.notices if recipient_id in (None, n["recipient_id"])]

    def notification_notice(self, notice_id):
        return next((n for n in self.notices if n["notice_id"] == notice_id), None)

    def notification_inbox(self, recipient_id):
        return []

    def notification_task_items(self, recipient_id=None):
        return []

    def notification_channels(self):
        return {"channels": [], "routes": {}, "locale": "zh", "quiet_hours": [], "timezone": "Asia/Shanghai",
                "digest_times": [], "tell_tasks": True}

    # advising
    def advising_list_tasks(self, **filters):
        return [t for t in self.tasks.values()
                if all(not v or t.get(k) == v for k, v in filters.items() if k in ("assignee", "student_id"))]

    def advising_get_task(self, task_id):
        return self.tasks.get(task_id)

    def advising_close_task(self, task_id, closed_by, record):
        if "date" not in record:
            return {"status": "rejected", "message": "the record needs a date"}
        return {"status": "done"}

    def advising_list_records(self, **filters):
        return []

    def advising_list_items(self, open_only=False, semester=None, assignee=None):
        return []

    def advising_list_semesters(self):
        return []

    # assessment
    def assessment_list_flags(self, semester=None):
        return []

    def assessment_head_teacher_scorecard(self, staff_id, semester, as_of=None):
        return {"status": "not_found", "message": "no class"}

    def assessment_department_scorecard(self, major, year, as_of=None):
        return {"status": "not_found", "message": "no major"}

    def assessment_semester_report(self, semester, as_of=None):
        return {"status": "ok", "semester": semester}


class Clock:
    def __init__(self):
        self.now = datetime(2024, 3, 1, 8, 0, tzinfo=timezone.utc)

    def __call__(self):
        return self.now

    def advance(self, **delta):
        self.now += timedelta(**delta)


class GatewayApp:
    def __init__(self, tmp_path, settings: Settings | None = None):
        url = f"sqlite:///{tmp_path / 'gateway.sqlite'}"
        upgrade("gateway", url)
        self.clock = Clock()
        self.gateway = Gateway(engine_for("gateway", url), settings or Settings(), clock=self.clock,
                               amqp_uri="amqp://guest:guest@127.0.0.1:1/")
        self.services = FakeServices()
        self.routes = all_routes()
        self.map = Map([Rule(r.path, methods=[r.method], endpoint=r) for r in self.routes])

    def __call__(self, environ, start_response):
        request = Request(environ)
        try:
            route, values = self.map.bind_to_environ(environ).match()
        except HTTPException as error:
            return error(environ, start_response)
        ctx = Context.for_request(self.gateway, self.services, request)
        return handle_http(ctx, route, request, values)(environ, start_response)

    def client(self) -> Client:
        return Client(self)

    def context(self, client_address: str = "127.0.0.1") -> Context:
        return Context(self.gateway, self.services)

    def add_user(self, username: str, staff_id: str | None = None, is_admin: bool = False,
                 password: str = PASSWORD) -> None:
        with self.gateway.engine.begin() as conn:
            accounts.add_user(conn, username, password, self.clock(), staff_id=staff_id, is_admin=is_admin)

    def add_role_users(self) -> None:
        for role, (username, staff_id) in ROLE_USERS.items():
            self.add_user(username, staff_id=staff_id, is_admin=role == "admin")

    def sign_in(self, client: Client, username: str, password: str = PASSWORD) -> str:
        response = client.post("/api/session", json={"username": username, "password": password})
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()["csrf_token"]

    def audit_rows(self) -> list[dict]:
        from sqlalchemy import select
        from services.gateway.tables import audit_log
        with self.gateway.engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(audit_log).order_by(audit_log.c.id)).mappings()]
