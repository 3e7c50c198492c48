"""A student's warning timeline (`aq warnings history`): what warnings, notification and advising each know about
one student, merged into one list of happenings ordered by time and grouped by semester, readable in Chinese or
English. Plain functions: the command asks the services, these only arrange the answers.

A part whose service did not answer is named in ``missing``; the rest of the timeline is still shown.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable, Mapping

from shared.academic.semesters import sort_key
from shared.clock import college_timezone

# The three parts: (service, RPC, what the part holds).
PARTS = {
    "warnings": ("warnings", "history"),
    "notices": ("notification", "notices_for_student"),
    "tasks": ("advising", "tasks_for_student"),
}
UNKNOWN = "?"      # happenings whose semester cannot be told (their warning change is not known)


def gather(call: Callable[[str, str, str], Any], student_id: str) -> tuple[dict, dict]:
    """(answers by part, missing parts with the reason). ``call(service, method, student_id)`` may raise."""
    answers, missing = {}, {}
    for part, (service, method) in PARTS.items():
        try:
            answers[part] = call(service, method, student_id)
        except Exception as exc:      # a service away, or failing: the other parts are still worth showing
            missing[part] = f"{service}: {exc}"
    return answers, missing


def _when(text: str | None) -> datetime | None:
    if not text:
        return None
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)    # SQLite keeps UTC without a zone


def _event(at: str | None, semester: str | None, source: str, what: str, **detail) -> dict:
    return {"at": at, "semester": semester or UNKNOWN, "source": source, "what": what, **detail}


def warning_events(answer: Mapping) -> list[dict]:
    events = []
    for c in answer.get("changes", ()):
        events.append(_event(c["created_at"], c["semester"], "warning", c["kind"], change_id=c["change_id"],
                             old_level=c["old_level"], new_level=c["new_level"], escalated=c["escalated"],
                             reasons=c["reasons"], policy_version=c["policy_version"],
                             release_status=c.get("release_status")))
        if c.get("release_status") == "excluded" and c.get("decided_at"):
            events.append(_event(c["decided_at"], c["semester"], "warning", "excluded", change_id=c["change_id"],
                                 by=c.get("decided_by"), note=c.get("decision_note")))
        if c.get("released_at") and c.get("released_at") != c["created_at"]:
            events.append(_event(c["released_at"], c["semester"], "warning", "released", change_id=c["change_id"]))
    return events


def notice_events(answer: Mapping, semester_of: Mapping[str, str]) -> list[dict]:
    """One happening per notice cause and recipient (its channels together), and per acknowledgement asked."""
    grouped: dict[tuple, dict] = {}
    for n in answer.get("notices", ()):
        key = (n["cause"], n["recipient_id"])
        held = grouped.get(key)
        if held is None:
            held = grouped[key] = _event(n["created_at"], semester_of.get(n["cause"]), "notice", n["kind"],
                                         recipient_kind=n["recipient_kind"], recipient_id=n["recipient_id"],
                                         cause=n["cause"], channels=[])
        held["channels"].append({"channel": n["channel"], "status": n["status"], "sent_at": n.get("sent_at")})
    events = list(grouped.values())
    for a in answer.get("acknowledgements", ()):
        semester = a.get("semester") or semester_of.get(a["cause"])
        events.append(_event(a["requested_at"], semester, "acknowledgement", "requested",
                             recipient_kind=a["recipient_kind"], status=a["status"], expires_at=a.get("expires_at"),
                             cause=a["cause"]))
        if a.get("acknowledged_at"):
            events.append(_event(a["acknowledged_at"], semester, "acknowledgement", "acknowledged",
                                 recipient_kind=a["recipient_kind"], signer=a.get("signer_name"),
                                 channel=a.get("ack_channel")))
        if a.get("overdue_at"):
            events.append(_event(a["overdue_at"], semester, "acknowledgement", "overdue",
                                 recipient_kind=a["recipient_kind"]))
    return events


def task_events(answer: Mapping) -> list[dict]:
    events = []
    for t in answer.get("tasks", ()):
        events.append(_event(t.get("created_at"), t["semester"], "task", "created", task_id=t["task_id"],
                             kind=t["kind"], assignee=t["assignee"], due=t["due"], status=t["status"],
                             note=t.get("note")))
        for h in t.get("history", ()):
            if h["action"] == "closed":
                record = t.get("record") or {}
                events.append(_event(h["at"], t["semester"], "task", "closed", task_id=t["task_id"],
                                     kind=t["kind"], by=h.get("actor"), date=record.get("date"),
                                     summary=_record_summary(record)))
            else:
                events.append(_event(h["at"], t["semester"], "task", h["action"], task_id=t["task_id"],
                                     kind=t["kind"], by=h.get("actor"), detail=h.get("detail") or {}))
    for on in answer.get("lists", ()):
        entry = on.get("entry") or {}
        events.append(_event(on["created_at"], on["semester"], "list", "listed", list_id=on["list_id"],
                             cohort=on["cohort"], version=on["version"], status=on["status"],
                             confirmed_by=on.get("confirmed_by"), level=entry.get("level"),
                             failed_courses=[c["course_code"] for c in entry.get("failed_courses", ())]))
    return events


def _record_summary(record: Mapping) -> str:
    # What the owner wrote, in one line: the talk's discussion and plan, a contact's summary…
    for key in ("discussion", "summary", "progress", "support_plan"):
        if record.get(key):
            return str(record[key])
    return ""


def merge(student_id: str, answers: Mapping, missing: Mapping) -> dict:
    """The whole timeline: semesters in order (unknown last), each with its happenings in time order."""
    semester_of = {c["change_id"]: c["semester"] for c in (answers.get("warnings") or {}).get("changes", ())}
    events = []
    if "warnings" in answers:
        events += warning_events(answers["warnings"])
    if "notices" in answers:
        events += notice_events(answers["notices"], semester_of)
    if "tasks" in answers:
        events += task_events(answers["tasks"])
    order = {"warning": 0, "list": 1, "notice": 2, "acknowledgement": 3, "task": 4}
    never = datetime.max.replace(tzinfo=timezone.utc)
    events.sort(key=lambda e: (_when(e["at"]) or never, order.get(e["source"], 9)))
    semesters: dict[str, list[dict]] = {}
    for event in events:
        semesters.setdefault(event["semester"], []).append(event)
    ordered = sorted(semesters, key=lambda s: (s == UNKNOWN, sort_key(s) if s != UNKNOWN else (0, 0)))
    return {"student_id": student_id, "semesters": [{"semester": s, "events": semesters[s]} for s in ordered],
            "standings": (answers.get("warnings") or {}).get("standings", []), "missing": dict(missing)}


# --- reading it -------------------------------------------------------------------------------------------------

WORDS = {
    "zh": {
        "title": "学生 {sid} 的学业预警记录", "unknown": "学期未知", "nothing": "（没有记录）",
        "missing": "缺少：{part}（{why}）", "parts": {"warnings": "预警", "notices": "通知与回执", "tasks": "任务与名单"},
        "levels": {"none": "无", "yellow": "黄色", "orange": "橙色", "red": "红色", "dismissal": "退学警示"},
        "rules": {"unresolved_failed_credits": "应修未得学分", "semester_failed_credits": "本学期不及格学分",
                  "gpa": "平均学分绩点"},
        "changes": {"issued": "发布{new}预警", "escalated": "由{old}预警升为{new}预警",
                    "downgraded": "由{old}预警降为{new}预警", "lifted": "解除预警（原为{old}）"},
        "release": {"pending": "待审核", "confirmed": "已确认待发布", "released": "已发布", "excluded": "已排除",
                    "superseded": "已被新结果取代"},
        "policy": "策略", "escalation": "连续预警升级", "excluded": "预警被排除（{by}：{note}）", "released": "预警已发布",
        "notice": "通知 {kind} → {who}", "ack_requested": "请{who}回执（{status}）",
        "ack_acknowledged": "{who}已回执（签名：{signer}）", "ack_overdue": "{who}回执逾期，转班主任",
        "task_created": "任务 {kind} → {assignee}，截止 {due}（{status}）", "task_closed": "任务 {kind} 已由 {by} 记录（{date}）{summary}",
        "task_other": "任务 {kind}：{action}", "listed": "列入 {cohort} 级学业困难学生名单 第 {version} 版（{status}）",
        "list_status": {"confirmed": "辅导员 {by} 已确认", "unconfirmed": "待辅导员确认", "replaced": "已被新版本替代"},
        "failed": "不及格：{courses}", "recipients": {"student": "学生", "guardian": "家长", "head_teacher": "班主任",
                                                    "counselor": "辅导员", "department_head": "系主任",
                                                    "vice_dean": "教学副院长", "staff": "教师"},
        "actions": {"reminded": "已提醒", "escalated": "逾期上报", "moved": "转交", "replaced": "名单更新",
                    "submitted": "已提交", "approved": "审核通过", "returned": "退回", "checked": "复查"},
        "standing": "当前：{semester} {level}（{status}）", "status": {"active": "有效", "lifted": "已解除"},
    },
    "en": {
        "title": "Warning history of student {sid}", "unknown": "semester unknown", "nothing": "(nothing recorded)",
        "missing": "missing: {part} ({why})",
        "parts": {"warnings": "warnings", "notices": "notices and acknowledgements", "tasks": "tasks and lists"},
        "levels": {"none": "none", "yellow": "yellow", "orange": "orange", "red": "red", "dismissal": "dismissal risk"},
        "rules": {"unresolved_failed_credits": "failed credits not made up",
                  "semester_failed_credits": "credits failed this semester", "gpa": "GPA"},
        "changes": {"issued": "{new} warning issued", "escalated": "escalated from {old} to {new}",
                    "downgraded": "downgraded from {old} to {new}", "lifted": "warning lifted (was {old})"},
        "release": {"pending": "pending review", "confirmed": "confirmed, to be released", "released": "released",
                    "excluded": "excluded", "superseded": "superseded"},
        "policy": "policy", "escalation": "escalated for consecutive warnings",
        "excluded": "warning excluded ({by}: {note})", "released": "warning released",
        "notice": "notice {kind} → {who}", "ack_requested": "acknowledgement asked of the {who} ({status})",
        "ack_acknowledged": "{who} acknowledged (signed: {signer})", "ack_overdue": "{who}'s acknowledgement overdue",
        "task_created": "task {kind} → {assignee}, due {due} ({status})",
        "task_closed": "task {kind} recorded by {by} ({date}){summary}", "task_other": "task {kind}: {action}",
        "listed": "on cohort {cohort}'s list of students with academic problems, version {version} ({status})",
        "list_status": {"confirmed": "confirmed by {by}", "unconfirmed": "awaiting the counselor",
                        "replaced": "replaced by a newer version"},
        "failed": "failed: {courses}", "recipients": {"student": "student", "guardian": "guardian",
                                                     "head_teacher": "head teacher", "counselor": "counselor",
                                                     "department_head": "department head", "vice_dean": "vice dean",
                                                     "staff": "staff"},
        "actions": {"reminded": "reminded", "escalated": "escalated", "moved": "moved", "replaced": "list updated",
                    "submitted": "submitted", "approved": "approved", "returned": "returned", "checked": "checked"},
        "standing": "now: {semester} {level} ({status})", "status": {"active": "active", "lifted": "lifted"},
    },
}


def _time(text: str | None) -> str:
    moment = _when(text)
    return moment.astimezone(college_timezone()).strftime("%Y-%m-%d %H:%M") if moment else " " * 16


def _semester_title(code: str, locale: str) -> str:
    if code == UNKNOWN:
        return WORDS[locale]["unknown"]
    years, term = code[:9], code[-1:]
    if locale == "zh":
        return f"{years}学年" + {"1": "第一学期", "2": "第二学期", "3": "夏季学期"}.get(term, "") + f" ({code})"
    return {"1": "autumn", "2": "spring", "3": "summer"}.get(term, "") + f" {years} ({code})"


def describe(event: Mapping, locale: str = "zh") -> str:
    """One happening in one line."""
    w = WORDS[locale]
    level = lambda v: w["levels"].get(v, v)     # noqa: E731
    who = lambda k: w["recipients"].get(k, k)     # noqa: E731
    source, what = event["source"], event["what"]
    if source == "warning" and what in w["changes"]:
        text = w["changes"][what].format(old=level(event["old_level"]), new=level(event["new_level"]))
        reasons = "; ".join(f"{w['rules'].get(r['rule'], r['rule'])} {r['measure']:g} {r['comparison']} "
                            f"{r['threshold']:g}"
                            + (f" [{', '.join(c['course_code'] for c in r.get('courses', ()))}]"
                               if r.get("courses") else "") for r in event["reasons"])
        bits = [b for b in (reasons, w["escalation"] if event.get("escalated") else "",
                            f"{w['policy']} {event['policy_version']}",
                            w["release"].get(event.get("release_status") or "", event.get("release_status") or ""))
                if b]
        return f"{text} ({'; '.join(bits)})"
    if source == "warning":
        return w[what].format(by=event.get("by") or "", note=event.get("note") or "")
    if source == "notice":
        channels = ", ".join(f"{c['channel']} {c['status']}" for c in event["channels"])
        return w["notice"].format(kind=what, who=f"{who(event['recipient_kind'])} {event['recipient_id']}") \
            + f": {channels}"
    if source == "acknowledgement":
        return w[f"ack_{what}"].format(who=who(event["recipient_kind"]), status=event.get("status"),
                                       signer=event.get("signer") or "")
    if source == "task" and what == "created":
        note = f" [{event['note']}]" if event.get("note") else ""
        return w["task_created"].format(kind=event["kind"], assignee=event["assignee"], due=event["due"],
                                        status=event["status"]) + note
    if source == "task" and what == "closed":
        summary = f": {event['summary']}" if event.get("summary") else ""
        return w["task_closed"].format(kind=event["kind"], by=event.get("by"), date=event.get("date"),
                                       summary=summary)
    if source == "task":
        return w["task_other"].format(kind=event["kind"], action=w["actions"].get(what, what))
    if source == "list":
        status = w["list_status"].get(event["status"], event["status"]).format(by=event.get("confirmed_by"))
        text = w["listed"].format(cohort=event["cohort"], version=event["version"], status=status)
        if event.get("level"):
            text += f"; {level(event['level'])}"
        if event.get("failed_courses"):
            text += "; " + w["failed"].format(courses=", ".join(event["failed_courses"]))
        return text
    return f"{source} {what}"


def render(timeline: Mapping, locale: str = "zh") -> str:
    w = WORDS[locale]
    lines = [w["title"].format(sid=timeline["student_id"])]
    for standing in timeline.get("standings", ()):
        lines.append("  " + w["standing"].format(semester=standing["semester"],
                                                  level=w["levels"].get(standing["level"], standing["level"]),
                                                  status=w["status"].get(standing["status"], standing["status"])))
    if not timeline["semesters"]:
        lines.append(w["nothing"])
    for group in timeline["semesters"]:
        lines.append("")
        lines.append(f"== {_semester_title(group['semester'], locale)} ==")
        for event in group["events"]:
            lines.append(f"{_time(event['at'])}  {describe(event, locale)}")
    for part, why in timeline.get("missing", {}).items():
        lines.append("")
        lines.append(w["missing"].format(part=w["parts"].get(part, part), why=why))
    return "\n".join(lines)
