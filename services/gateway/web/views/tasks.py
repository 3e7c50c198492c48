"""A staff member's duties: the task list, and the form that records a talk, a parent contact, a class meeting,
an observation… (closing the task), submits a course review, or — for the department head — reviews one."""
from __future__ import annotations

from datetime import date, datetime

from services.gateway.errors import NotFound, Unprocessable
from services.gateway.web import forms
from services.gateway.web.views import see_other
from shared.academic.semesters import Semester, SemesterError
from shared.clock import college_timezone

STATUSES = ("unfinished", "open", "submitted", "done", "all")
TASK_ID_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_:.@")   # the API's ids


SAVED = ("closed", "submitted", "reviewed")


def saved_note(request) -> str | None:
    """What the page before said it saved (?saved=…, after a form): only the notes this interface writes."""
    saved = request.args.get("saved")
    return saved if saved in SAVED else None


def _day(request, name: str) -> str | None:
    try:
        return date.fromisoformat(request.args.get(name) or "").isoformat()
    except ValueError:
        return None


def semester_arg(value: str | None) -> str | None:
    try:
        return Semester.parse(value).code if value else None
    except SemesterError:
        return None


def today() -> date:
    return datetime.now(college_timezone()).date()


def overdue_days(task: dict, on: date) -> int:
    if task.get("status") == "done" or not task.get("due"):
        return 0
    return max(0, (on - date.fromisoformat(task["due"][:10])).days)


def student_names(ctx, tasks: list[dict]) -> dict[str, str]:
    """Names of the tasks' students, as far as the warnings list (scoped to this person) knows them: a task's row
    carries only the student id."""
    if not any(t.get("student_id") for t in tasks) or not ctx.principal.can("warnings.read"):
        return {}
    return {w["student_id"]: w["name"] for w in ctx.api("warnings.list", status="all")["warnings"] if w.get("name")}


def task_list(ctx, request):
    status = request.args.get("status", "unfinished")
    status = status if status in STATUSES else "unfinished"
    kind = request.args.get("kind") or None
    kind = kind if kind in forms.RECORD_FORMS else None
    semester = semester_arg(request.args.get("semester"))
    tasks = ctx.api("tasks.list", mine=True, status=status, kind=kind, semester=semester)["tasks"]
    on = today()
    names = student_names(ctx, tasks)
    for task in tasks:
        task["overdue_days"] = overdue_days(task, on)
        task["student_name"] = names.get(task.get("student_id"))
    return "tasks.html", {"tasks": tasks, "status": status, "kind": kind, "statuses": STATUSES,
                          "kinds": sorted({t["kind"] for t in tasks} | ({kind} if kind else set())),
                          "saved": saved_note(request), "follow_up_due": _day(request, "follow_up_due")}


def _action(task: dict, principal) -> str | None:
    """What this person may do with the task now: close, submit, review, or nothing (read only)."""
    mine = task.get("assignee") == principal.staff_id
    if task["status"] == "open" and task["kind"] == "course_review":
        return "submit" if (mine or principal.can("tasks.work")) else None
    if task["status"] == "open" and mine:
        return "close"
    if task["status"] == "submitted" and task["kind"] == "course_review" and mine and principal.can("tasks.review"):
        return "review"
    return None


def _get(ctx, task_id: str) -> dict:
    if not task_id or not set(task_id) <= TASK_ID_CHARS:
        raise NotFound("no such task", field="task_id")
    task = ctx.api("tasks.show", task_id=task_id)
    task["student_name"] = student_names(ctx, [task]).get(task.get("student_id"))
    return task


def _page(ctx, task: dict, *, values=None, errors=None, refused=None, status=200):
    action = _action(task, ctx.principal)
    fields = forms.form_for(task["kind"]) if action in ("close", "submit") else ()
    task["overdue_days"] = overdue_days(task, today())
    context = {"task": task, "action": action, "fields": fields, "values": values or {}, "errors": errors or {},
               "refused": refused, "decisions": forms.REVIEW_DECISIONS}
    return ("task.html", context, status) if status != 200 else ("task.html", context)


def task_page(ctx, request, task_id: str):
    return _page(ctx, _get(ctx, task_id))


def task_post(ctx, request, task_id: str):
    task = _get(ctx, task_id)
    action = _action(task, ctx.principal)
    if action is None or request.form.get("action") != action:
        return _page(ctx, task, refused="tasks.not_yours", status=409)
    if action == "review":
        decision, errors = forms.read_review(request.form)
    else:
        record, errors = forms.read_record(task["kind"], request.form, task)
    if errors:
        return _page(ctx, task, values=request.form, errors=errors, status=422)
    try:
        if action == "close":
            answer = ctx.api("tasks.close", task_id=task_id, record=record)
        elif action == "submit":
            answer = ctx.api("tasks.submit", task_id=task_id, record=record)
        else:
            answer = ctx.api("tasks.review", task_id=task_id, **decision)
    except Unprocessable as exc:        # the advising service said no (e.g. already closed): say why, keep the form
        return _page(ctx, task, values=request.form, refused=exc.reason, status=422)
    follow_up = (answer.get("follow_up") or {}).get("due")
    saved = {"close": "closed", "submit": "submitted", "review": "reviewed"}[action]
    back = "/ui/courses" if action == "review" else "/ui/tasks"
    return see_other(back, saved=saved, follow_up_due=follow_up)
