"""Who is asking: a signed-in staff member or an API token, with the roles the roster gives them and the part of
the college those roles cover.

Roles come from the roster (staff.csv "角色"): a head teacher covers their classes, a counselor their cohorts, a
department head their majors; the vice dean, the deputy secretary and academic affairs cover the whole college.
``admin`` is the gateway's own role (accounts, tokens, parked messages, service health): it reads no student data.
"""
from __future__ import annotations

from dataclasses import dataclass, field

# Highest first: a person holding several roles is shown under the first one they hold.
ROLES = ("academic_affairs", "vice_dean", "deputy_secretary", "department_head", "counselor", "head_teacher", "admin")
COLLEGE_ROLES = frozenset({"academic_affairs", "vice_dean", "deputy_secretary"})
STAFF_ROLES = frozenset(ROLES) - {"admin"}

# What each role may do. A route names one permission (services/gateway/routes.py); row-level scope (which
# students, classes, tasks) is checked by the route's function against Principal.covers_*.
_READ = {"grades.read", "warnings.read", "notices.read", "tasks.read", "flags.read", "scorecards.read",
         "symposium.read", "notices.preview", "semesters.read", "self.read", "lists.read"}
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "academic_affairs": frozenset(_READ | {
        "roster.import", "grades.upload", "outcomes.import", "outcomes.read", "uploads.trace", "notices.manage",
        "notices.channels", "tasks.open_semester", "tasks.remind", "symposium.raise", "symposium.route",
        "report.read", "policy.try", "warnings.pending", "warnings.release", "policy.install"}),
    # The vice dean sees what waits for review and may try a policy; academic affairs decide (confirm, exclude,
    # install). The vice dean confirms a counselor list only when it fell to them (a vacant counselor post).
    "vice_dean": frozenset(_READ | {"outcomes.read", "uploads.trace", "report.read", "symposium.raise",
                                    "symposium.route", "symposium.close", "tasks.work", "policy.try",
                                    "warnings.pending", "lists.confirm"}),
    "deputy_secretary": frozenset(_READ | {"tasks.work"}),
    "department_head": frozenset(_READ | {"tasks.work", "tasks.review", "symposium.answer"}),
    "counselor": frozenset(_READ | {"tasks.work", "symposium.answer", "lists.confirm"}),
    "head_teacher": frozenset(_READ | {"tasks.work", "symposium.answer"}),
    "admin": frozenset({"self.read", "operations.read", "operations.replay", "notices.channels", "tasks.clock",
                        "tasks.remind", "accounts.manage"}),
}


@dataclass(frozen=True)
class Scope:
    """The part of the college a principal's roles cover. ``college`` covers everything."""
    college: bool = False
    classes: frozenset[str] = frozenset()
    cohorts: frozenset[str] = frozenset()     # entry years as text ("2022")
    majors: frozenset[str] = frozenset()

    def covers(self, class_name: str | None = None, cohort=None, major: str | None = None) -> bool:
        if self.college:
            return True
        return ((class_name is not None and class_name in self.classes)
                or (cohort is not None and str(cohort) in self.cohorts)
                or (major is not None and major in self.majors))

    def as_dict(self) -> dict:
        return {"college": self.college, "classes": sorted(self.classes), "cohorts": sorted(self.cohorts),
                "majors": sorted(self.majors)}

    @classmethod
    def from_dict(cls, data: dict) -> "Scope":
        return cls(bool(data.get("college")), frozenset(data.get("classes", ())),
                   frozenset(str(c) for c in data.get("cohorts", ())), frozenset(data.get("majors", ())))


@dataclass(frozen=True)
class Principal:
    user_id: str                    # "user:<username>" or "token:<token id>": who is written to the audit log
    staff_id: str | None
    display_name: str
    roles: frozenset[str]
    scope: Scope = field(default_factory=Scope)
    via_token: bool = False

    @property
    def role(self) -> str:
        for role in ROLES:
            if role in self.roles:
                return role
        return "none"

    @property
    def classes(self) -> frozenset[str]:
        return self.scope.classes

    @property
    def cohorts(self) -> frozenset[str]:
        return self.scope.cohorts

    @property
    def majors(self) -> frozenset[str]:
        return self.scope.majors

    @property
    def college_wide(self) -> bool:
        return self.scope.college

    def can(self, permission: str) -> bool:
        return any(permission in ROLE_PERMISSIONS.get(role, ()) for role in self.roles)

    def covers_student(self, info: dict | None) -> bool:
        """``info`` is roster.responsibles' entry for the student (None: unknown student, covered by nobody but
        the college-wide roles)."""
        if self.scope.college:
            return True
        if not info:
            return False
        return self.scope.covers(info.get("class_name"), info.get("cohort"), info.get("major"))

    def covers_class(self, cls: dict) -> bool:
        """``cls`` is an entry of roster.classes (class_name, major, cohort, head_teacher_id)."""
        return self.scope.covers(cls.get("class_name"), cls.get("cohort"), cls.get("major"))

    def as_dict(self) -> dict:
        return {"user_id": self.user_id, "staff_id": self.staff_id, "display_name": self.display_name,
                "role": self.role, "roles": sorted(self.roles, key=ROLES.index), "scope": self.scope.as_dict(),
                "via_token": self.via_token}


def scope_for(roles_with_scopes: list[dict], classes_led: list[str] = ()) -> tuple[frozenset[str], Scope]:
    """Roles and scope from the roster's rows for one staff member ([{role, scope: [...]}, …]) plus the classes
    whose head teacher they are (classes.csv "班主任工号")."""
    roles, classes, cohorts, majors = set(), set(classes_led), set(), set()
    for row in roles_with_scopes:
        role, items = row["role"], [str(i) for i in row.get("scope") or ()]
        if role not in STAFF_ROLES:
            continue
        roles.add(role)
        if role == "head_teacher":
            classes.update(items)
        elif role == "counselor":
            cohorts.update(items)
        elif role == "department_head":
            majors.update(items)
    if classes_led:
        roles.add("head_teacher")
    return frozenset(roles), Scope(bool(roles & COLLEGE_ROLES), frozenset(classes), frozenset(cohorts),
                                   frozenset(majors))
