"""Read-side questions other services ask the roster (RPC, because they need the answer now)."""
from __future__ import annotations

import json

from sqlalchemy import case, func, select

from services.roster import tables


def _chunks(items, size=900):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start:start + size]


def lookup_students(conn, student_ids) -> dict[str, dict]:
    found = {}
    s = tables.students
    for part in _chunks(set(student_ids)):
        for row in conn.execute(select(s.c.student_id, s.c.name, s.c.class_name, s.c.status)
                                .where(s.c.student_id.in_(part))).mappings():
            found[row["student_id"]] = dict(row)
    return found


class Officers:
    """Who holds which scope: counselors by cohort, department heads by major, the vice dean."""

    def __init__(self, conn):
        self.counselor_by_cohort: dict[str, str] = {}
        self.department_head_by_major: dict[str, str] = {}
        self.vice_dean_id: str | None = None
        self.academic_affairs: list[str] = []
        for row in conn.execute(select(tables.staff).order_by(tables.staff.c.staff_id)).mappings():
            scope = json.loads(row["scope"])
            if row["role"] == "counselor":
                for cohort in scope:
                    self.counselor_by_cohort.setdefault(str(cohort), row["staff_id"])
            elif row["role"] == "department_head":
                for major in scope:
                    self.department_head_by_major.setdefault(major, row["staff_id"])
            elif row["role"] == "vice_dean":
                self.vice_dean_id = self.vice_dean_id or row["staff_id"]
            elif row["role"] == "academic_affairs":
                self.academic_affairs.append(row["staff_id"])

    def as_dict(self) -> dict:
        return {"counselor_by_cohort": self.counselor_by_cohort,
                "department_head_by_major": self.department_head_by_major,
                "vice_dean_id": self.vice_dean_id, "academic_affairs": self.academic_affairs}


def classes(conn) -> list[dict]:
    """Every class with its major, cohort, head teacher and how many of its students are enrolled (advising
    creates each semester's class duties from this)."""
    c, s = tables.classes, tables.students
    enrolled = func.sum(case((s.c.status == "enrolled", 1), else_=0))
    query = (select(c.c.class_name, c.c.major, c.c.cohort, c.c.head_teacher_id, enrolled.label("enrolled"))
             .select_from(c.outerjoin(s, s.c.class_name == c.c.class_name))
             .group_by(c.c.class_name, c.c.major, c.c.cohort, c.c.head_teacher_id).order_by(c.c.class_name))
    return [{**row, "enrolled": int(row["enrolled"] or 0)} for row in conn.execute(query).mappings()]


def staff_member(conn, staff_id: str) -> dict | None:
    """One staff member's roles with their scopes and the classes they lead as head teacher (the gateway builds
    a signed-in person's permissions from this). None when the roster does not know them."""
    rows = conn.execute(select(tables.staff).where(tables.staff.c.staff_id == staff_id)
                        .order_by(tables.staff.c.role)).mappings().all()
    led = conn.execute(select(tables.classes.c.class_name).where(tables.classes.c.head_teacher_id == staff_id)
                       .order_by(tables.classes.c.class_name)).scalars().all()
    if not rows and not led:
        return None
    return {"staff_id": staff_id, "name": rows[0]["name"] if rows else staff_id,
            "roles": [{"role": r["role"], "scope": json.loads(r["scope"])} for r in rows], "classes_led": list(led)}


def responsibles(conn, student_ids) -> dict[str, dict]:
    """For each student: class, major, cohort and the staff responsible (head teacher, counselor,
    department head, vice dean). Unknown students are left out."""
    officers = Officers(conn)
    s, c = tables.students, tables.classes
    result = {}
    for part in _chunks(set(student_ids)):
        query = (select(s.c.student_id, s.c.name, s.c.class_name, s.c.status, c.c.major, c.c.cohort,
                        c.c.head_teacher_id)
                 .select_from(s.outerjoin(c, s.c.class_name == c.c.class_name))
                 .where(s.c.student_id.in_(part)))
        for row in conn.execute(query).mappings():
            result[row["student_id"]] = {
                "student_id": row["student_id"], "name": row["name"], "class_name": row["class_name"],
                "status": row["status"], "major": row["major"], "cohort": row["cohort"],
                "head_teacher_id": row["head_teacher_id"],
                "counselor_id": officers.counselor_by_cohort.get(str(row["cohort"])),
                "department_head_id": officers.department_head_by_major.get(row["major"]),
                "vice_dean_id": officers.vice_dean_id,
            }
    return result


def contacts(conn, recipients: list[dict]) -> list[dict]:
    """Addresses for notification: recipients are {"kind": student|guardian|<staff role>, "id": ...};
    a guardian's id is "guardian:<student_id>". Only notification calls this."""
    student_ids = {r["id"].split(":", 1)[-1] for r in recipients if r["kind"] in ("student", "guardian")}
    staff_ids = {r["id"] for r in recipients if r["kind"] not in ("student", "guardian")}
    students, staff = {}, {}
    for part in _chunks(student_ids):
        for row in conn.execute(select(tables.students).where(tables.students.c.student_id.in_(part))).mappings():
            students[row["student_id"]] = row
    for part in _chunks(staff_ids):
        for row in conn.execute(select(tables.staff).where(tables.staff.c.staff_id.in_(part))).mappings():
            staff[row["staff_id"]] = row
    answer = []
    for r in recipients:
        entry = {"kind": r["kind"], "id": r["id"], "name": None, "email": None, "phone": None}
        if r["kind"] == "student" and r["id"] in students:
            row = students[r["id"]]
            entry.update(name=row["name"], email=row["email"], phone=row["phone"])
        elif r["kind"] == "guardian":
            row = students.get(r["id"].split(":", 1)[-1])
            if row:
                entry.update(name=row["guardian_name"], email=row["guardian_email"], phone=row["guardian_phone"],
                             relation=row["guardian_relation"], student_name=row["name"])
        elif r["id"] in staff:
            row = staff[r["id"]]
            entry.update(name=row["name"], email=row["email"], phone=row["phone"])
        answer.append(entry)
    return answer
