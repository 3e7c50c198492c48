"""Example notices for `aq notices preview KIND`: a made-up student, warning change, course flag and tasks, turned
into NoticeSpecs by the SAME functions that decide real notices, so a preview shows exactly what would be sent."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timezone

from services.notification.domain.recipients import (
    COURSE_FLAGGED, GUARDIAN, STUDENT, TASK_DIGEST, TASK_URGENT, WARNING_DOWNGRADED, WARNING_ESCALATED,
    WARNING_FORMAL, WARNING_ISSUED, WARNING_LIFTED, NoticeSpec, People, notices_for_course_flag,
    notices_for_warning_change,
)
from services.notification.domain import ack_policy
from services.notification.domain.ack_links import LinkSigner
from services.notification.domain.tasks import ASSIGNED, REMINDER, digest_spec

PEOPLE = People(student_id="210301001", student_name="张三", class_name="机械2101", major="机械设计制造及其自动化",
                head_teacher_id="T1001", counselor_id="C2021", department_head_id="D0301", vice_dean_id="V0001")

COURSES = [
    {"course_code": "MATH01", "course_name": "高等数学(1)", "credits": 5.0, "result": "45"},
    {"course_code": "PHY01", "course_name": "大学物理", "credits": 4.0, "result": "缺考"},
    {"course_code": "ENG02", "course_name": "大学英语(2)", "credits": 2.5, "result": "不及格"},
    {"course_code": "CHEM01", "course_name": "工程化学", "credits": 4.5, "result": "52"},
]


def example_reasons(level: str) -> list[dict]:
    """Reasons that give ``level`` (policy.md §4 thresholds)."""
    if level == "yellow":
        return [{"rule": "unresolved_failed_credits", "level": "yellow", "measure": 11.5, "threshold": 10.0,
                 "comparison": ">=", "courses": COURSES[:3]},
                {"rule": "gpa", "level": "yellow", "measure": 1.93, "threshold": 2.0, "comparison": "<", "courses": []}]
    threshold = {"orange": 15.0, "red": 25.0}[level]
    return [{"rule": "unresolved_failed_credits", "level": level, "measure": 16.0 if level == "orange" else 26.0,
             "threshold": threshold, "comparison": ">=", "courses": COURSES}]

# notice kind -> (warning change kind, old level, new level, default recipient kind)
WARNING_EXAMPLES = {
    WARNING_ISSUED: ("issued", "none", "yellow", STUDENT),
    WARNING_ESCALATED: ("escalated", "yellow", "orange", STUDENT),
    WARNING_FORMAL: ("issued", "none", "orange", GUARDIAN),
    WARNING_DOWNGRADED: ("downgraded", "orange", "yellow", STUDENT),
    WARNING_LIFTED: ("lifted", "orange", "none", STUDENT),
}
KINDS = tuple(WARNING_EXAMPLES) + (COURSE_FLAGGED, TASK_DIGEST, TASK_URGENT, ack_policy.REMINDER_KIND)
# An example acknowledgement link: signed with the development key, for a notice that does not exist.
EXAMPLE_EXPIRY = datetime(2023, 11, 28, 16, 0, tzinfo=timezone.utc)


def example_change(kind: str, old: str, new: str) -> dict:
    return {"change_id": "example", "student_id": PEOPLE.student_id, "semester": "2023-2024-1", "kind": kind,
            "old_level": old, "new_level": new, "escalated": kind == "escalated",
            "reasons": [] if new == "none" else example_reasons(new), "policy_version": "default-1"}


def example_tasks() -> list[dict]:
    base = {"assignee": "T1001", "semester": "2023-2024-1", "course_code": None}
    return [
        {"item_kind": ASSIGNED, "task": {**base, "task_id": "T-1", "kind": "talk", "student_id": "210301001",
                                          "due": "2023-11-20", "status": "open", "cause": "talk:example"}},
        {"item_kind": ASSIGNED, "task": {**base, "task_id": "T-2", "kind": "parent_contact",
                                          "student_id": "210301001", "due": "2023-11-27", "status": "open",
                                          "cause": "parent_contact:example"}},
        {"item_kind": REMINDER, "task": {**base, "task_id": "T-3", "kind": "class_meeting", "student_id": None,
                                          "due": "2023-11-15", "status": "due_soon", "cause": ""}},
    ]


def example(kind: str, recipient_kind: str | None = None) -> NoticeSpec:
    """The example notice of ``kind`` (to ``recipient_kind``, when the notice goes to several kinds)."""
    if kind == ack_policy.REMINDER_KIND:
        wanted = recipient_kind or GUARDIAN
        if wanted not in ack_policy.ROLES:
            raise ValueError(f"{kind} is not sent to {wanted} (it goes to {', '.join(ack_policy.ROLES)})")
        base = example(WARNING_FORMAL if wanted == GUARDIAN else WARNING_ESCALATED, wanted)
        context = {k: v for k, v in base.context.items() if k != "ack"}
        spec = ack_policy.reminder_spec({"ack_id": "A-example", "recipient_kind": wanted,
                                         "recipient_id": base.recipient_id},
                                        {**context, "audience": wanted, "requested_on": "2023-11-14"})
        return with_example_link(spec)
    if kind in WARNING_EXAMPLES:
        change_kind, old, new, default = WARNING_EXAMPLES[kind]
        wanted = recipient_kind or default
        change = example_change(change_kind, old, new)
        specs = ack_policy.mark(notices_for_warning_change(change, PEOPLE), {change["change_id"]: change},
                                ack_policy.AckSettings())
        for spec in specs:
            if spec.recipient_kind == wanted:
                return with_example_link(spec) if spec.requires_acknowledgement else spec
        known = ", ".join(s.recipient_kind for s in specs)
        raise ValueError(f"{kind} is not sent to {wanted} (it goes to {known})")
    if kind == COURSE_FLAGGED:
        flag = {"semester": "2023-2024-1", "course_code": "MATH01", "course_name": "高等数学(1)", "teacher": "杨英",
                "offering_college": "", "external": False, "majors": [PEOPLE.major], "rate": 0.26, "failed": 13,
                "total": 50, "threshold": 0.15, "previous_rate": 0.18, "previous_semester": "2022-2023-1",
                "change": "flagged"}
        return notices_for_course_flag(flag, PEOPLE)[0]
    if kind in (TASK_DIGEST, TASK_URGENT):
        urgent = kind == TASK_URGENT
        items = example_tasks()[:2] if urgent else example_tasks()
        return digest_spec("T1001", f"{'urgent' if urgent else 'digest'}:T1001:example", items, urgent,
                           date(2023, 11, 14))
    raise ValueError(f"unknown notice kind {kind!r} (known: {', '.join(KINDS)})")



def with_example_link(spec: NoticeSpec) -> NoticeSpec:
    """``spec`` with an example acknowledgement link, as a real notice asking for one carries."""
    url = LinkSigner(ack_policy.DEV_SECRET, ack_policy.DEFAULT_PUBLIC_URL).url(
        "N-0000000000000000", spec.recipient_kind, EXAMPLE_EXPIRY)
    ack = {"url": url, "expires_on": "2023-11-28", "role": spec.recipient_kind}
    return replace(spec, context={**spec.context, "ack": ack})
