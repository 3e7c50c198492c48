"""The head teacher's handbook (班主任手册) for a semester, as a readable document (HTML or Markdown).

``handbook`` arranges one staff member's tasks of a semester into sections (class plan, class meetings,
observations, talks and their follow-ups, parent contacts…) with the records that closed them, what is still open
or overdue, and the compliance counts of kpis.md (class meetings held / 3, observations / 3, talks done / due…).
It works for a counselor or a department head too: their sections are their duties.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from .duties import (
    ACKNOWLEDGEMENT_FOLLOW_UP,
    CLASS_MEETING,
    COUNSELOR_LIST,
    COUNSELOR_MEETING,
    COUNSELOR_TALK,
    COURSE_REVIEW,
    DONE,
    FOLLOW_UP,
    INTEGRITY_TALK,
    OBSERVATION,
    PARENT_CONTACT,
    PEER_TUTORING,
    RECURRING_DUTIES,
    REVIEW_MEETING,
    STUDY_PLAN,
    SYMPOSIUM_REPLY,
    TALK,
)
from .records import ANSWER_KINDS, FIELD_LABELS

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

TITLES = {
    STUDY_PLAN: "班级学业辅导计划 Class study-support plan",
    CLASS_MEETING: "专题班会 Themed class meetings",
    OBSERVATION: "随堂听课 Classroom observations",
    TALK: "一对一面谈 One-on-one talks",
    FOLLOW_UP: "帮扶跟进 Support-plan follow-ups",
    PARENT_CONTACT: "家长联系 Parent contacts",
    ACKNOWLEDGEMENT_FOLLOW_UP: "回执跟进 Notices not acknowledged: family contacted",
    INTEGRITY_TALK: "诚信谈话 Integrity talks",
    COUNSELOR_TALK: "辅导员谈话 Counselor talks",
    COUNSELOR_MEETING: "班主任工作会议 Meetings with head teachers",
    COUNSELOR_LIST: "学业困难学生名单确认 Counselor lists confirmed",
    PEER_TUTORING: "助学小课堂 Peer tutoring",
    REVIEW_MEETING: "学业问题研讨会 Academic review meeting",
    COURSE_REVIEW: "课程分析 Course reviews",
    SYMPOSIUM_REPLY: "座谈会反馈答复 Symposium replies",
}
ORDER = tuple(TITLES)

# The policy's numbers (duties.md) for the recurring duties: how many per class / cohort / major.
REQUIRED = {duty.kind: len(duty.weeks) for duty in RECURRING_DUTIES}

STATUS_TEXT = {"open": "待办 open", "submitted": "待审 submitted", "done": "已完成 done"}
ACTION_TEXT = {"reminded": "提醒 reminded", "escalated": "上报 escalated", "moved": "转交 moved",
               "submitted": "提交 submitted", "approved": "审核通过 approved", "returned": "退回 returned",
               "closed": "记录 recorded", "checked": "复查 checked"}


def _who(task: Mapping, names: Mapping[str, str]) -> str:
    if task.get("student_id"):
        name = names.get(task["student_id"])
        return f"{name} ({task['student_id']})" if name else task["student_id"]
    detail = task.get("detail") or {}
    if task["kind"] == COURSE_REVIEW:
        return " ".join(str(v) for v in (task.get("course_code"), detail.get("course_name"),
                                          detail.get("teacher")) if v)
    if task["kind"] == SYMPOSIUM_REPLY:
        return detail.get("topic") or ""
    scope = detail.get("scope") or task.get("class_name") or task.get("cohort") or task.get("major") or ""
    number = f" #{detail['number']}/{detail['of']}" if detail.get("number") else ""
    return f"{scope}{number}"


def _value(key: str, value) -> str:
    if value is None or value == "":
        return ""
    if key == "answer_kind":
        return f"{ANSWER_KINDS.get(value, value)} {value}"
    if isinstance(value, (list, tuple)):
        return "、".join(str(v) for v in value)
    return str(value)


def _entry(task: Mapping, names: Mapping[str, str], today: date) -> dict:
    due = date.fromisoformat(task["due"])
    record = task.get("record") or {}
    overdue_days = (today - due).days if task["status"] != DONE else 0
    return {
        "task_id": task["task_id"], "who": _who(task, names), "due": task["due"],
        "status": STATUS_TEXT.get(task["status"], task["status"]), "done": task["status"] == DONE,
        "overdue_days": max(overdue_days, 0), "note": task.get("note") or "",
        "escalated_to": task.get("escalated_to") or "",
        "fields": [(FIELD_LABELS.get(k, k), _value(k, v)) for k, v in record.items() if _value(k, v)],
        "check": (task.get("outcome") or {}).get("text", ""),
        "history": [f"{h['at'][:10]} {ACTION_TEXT.get(h['action'], h['action'])}"
                    + (f" ({h['actor']})" if h.get("actor") else "")
                    + _history_detail(h) for h in task.get("history", ()) if h["action"] != "closed"],
    }


def _history_detail(item: Mapping) -> str:
    detail = item.get("detail") or {}
    if item["action"] == "moved":
        return f": {detail.get('from')} → {detail.get('to')}"
    if item["action"] == "escalated" and detail.get("escalate_to"):
        return f": → {detail['escalate_to']}"
    if item["action"] == "reminded":
        return f": {detail.get('reminder')}"
    if item["action"] == "checked":
        return f": {detail.get('text', '')}"
    if detail.get("comment"):
        return f": {detail['comment']}"
    return ""


def handbook(staff_id: str, semester: str, tasks: Iterable[Mapping], *, names: Mapping[str, str] | None = None,
             staff_name: str | None = None, today: date) -> dict:
    """The handbook's content: sections by duty, each with its entries, and the compliance summary."""
    names = names or {}
    tasks = [t for t in tasks if t["semester"] == semester]
    by_kind: dict[str, list[Mapping]] = {}
    for task in tasks:
        by_kind.setdefault(task["kind"], []).append(task)
    sections, summary = [], []
    for kind in sorted(by_kind, key=lambda k: (ORDER.index(k) if k in ORDER else len(ORDER), k)):
        entries = [_entry(t, names, today) for t in sorted(by_kind[kind], key=lambda t: (t["due"], t["task_id"]))]
        done = sum(1 for e in entries if e["done"])
        overdue = sum(1 for e in entries if e["overdue_days"] > 0)
        scopes = {(t.get("detail") or {}).get("scope") for t in by_kind[kind]} - {None}
        required = REQUIRED.get(kind)
        target = f"≥ {required} × {len(scopes)}" if required and scopes else ""
        sections.append({"kind": kind, "title": TITLES.get(kind, kind), "entries": entries})
        summary.append({"title": TITLES.get(kind, kind), "done": done, "total": len(entries), "overdue": overdue,
                        "required": target})
    classes = sorted({t["class_name"] for t in tasks if t.get("class_name")})
    return {"staff_id": staff_id, "staff_name": staff_name or "", "semester": semester, "classes": classes,
            "today": today.isoformat(), "summary": summary, "sections": sections,
            "overdue": sum(s["overdue"] for s in summary)}


def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(str(TEMPLATES)),
                       autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


_ENV = _environment()
FORMATS = {"html": "handbook.html.j2", "md": "handbook.md.j2"}


def render(content: Mapping, fmt: str = "html") -> str:
    if fmt not in FORMATS:
        raise ValueError(f"the handbook is exported as {' or '.join(FORMATS)}, not {fmt!r}")
    return _ENV.get_template(FORMATS[fmt]).render(**content)
