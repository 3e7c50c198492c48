"""The counselor's cohorts (warned students, counselor lists to confirm) and the department head's flagged
courses."""
from __future__ import annotations

from collections import defaultdict

from services.gateway.errors import Unprocessable
from services.gateway.web.views import see_other
from services.gateway.web.views.tasks import overdue_days, saved_note, today
from shared.academic.vocabulary import LEVELS

# Highest level first (dismissal, red, orange, yellow): the students who need attention most lead each class.
LEVEL_ORDER = {level: rank for rank, level in enumerate(reversed(LEVELS))}


def cohort(ctx, request):
    """Students of the counselor's cohorts with an active warning, class by class, with their unfinished duties
    (who must still talk to them, contact their parents…)."""
    warnings = ctx.api("warnings.list", status="active")["warnings"]
    tasks = ctx.api("tasks.list", status="unfinished")["tasks"]
    open_by_student: dict[str, list[dict]] = defaultdict(list)
    on = today()
    for task in tasks:
        if task.get("student_id"):
            task["overdue_days"] = overdue_days(task, on)
            open_by_student[task["student_id"]].append(task)
    by_class: dict[str, list[dict]] = defaultdict(list)
    for w in warnings:
        w["open_tasks"] = open_by_student.get(w["student_id"], [])
        by_class[w.get("class_name") or ""].append(w)
    classes = [{"class_name": name,
                "warnings": sorted(rows, key=lambda w: (LEVEL_ORDER.get(w["level"], 9), w["student_id"]))}
               for name, rows in sorted(by_class.items())]
    levels = {level: sum(1 for w in warnings if w["level"] == level) for level in LEVEL_ORDER}
    return "cohort.html", {"classes": classes, "total": len(warnings), "levels": levels,
                           "lists": counselor_lists(ctx), "saved": request.args.get("saved") == "list_confirmed",
                           "list_error": None}


def counselor_lists(ctx) -> dict:
    """The cohorts' counselor lists: each waiting one (the latest version, unconfirmed) with its students and the
    confirm form; the versions confirmed or replaced before it, newest first."""
    principal = ctx.principal
    rows = [r for r in ctx.api("lists.list")["lists"] if r["whole"]]
    waiting = [ctx.api("lists.show", list_id=r["list_id"]) for r in rows if r["status"] == "unconfirmed"]
    for item in waiting:
        # The form only for whoever confirms it (the advising service still has the last word: a task may move).
        item["mine"] = principal.can("lists.confirm") and (item.get("confirmer") == principal.staff_id
                                                           or str(item["cohort"]) in principal.cohorts)
    done = sorted((r for r in rows if r["status"] != "unconfirmed"),
                  key=lambda r: (r["semester"], r["cohort"], r["version"]), reverse=True)
    return {"waiting": waiting, "done": done}


def confirm_list(ctx, request):
    """POST: the counselor confirms a list (its latest version) with an optional remark."""
    list_id = (request.form.get("list_id") or "").strip()
    comment = (request.form.get("comment") or "").strip() or None
    try:
        ctx.api("lists.confirm", list_id=list_id, comment=comment)
    except Unprocessable as exc:     # replaced by a newer version meanwhile, already confirmed…: say why
        template, context = cohort(ctx, request)
        return template, {**context, "list_error": exc.reason}, 422
    return see_other("/ui/cohort", saved="list_confirmed")


def _review_key(task: dict) -> tuple[str, str]:
    return task.get("semester") or "", task.get("course_code") or ""


def courses(ctx, request):
    """Flagged courses (of the department head's majors as the API scopes them; all for the college-wide roles),
    each with its review's status; the reviews waiting for this person's decision first."""
    flags = ctx.api("flags.list")["flags"]
    if not ctx.principal.college_wide:
        flags = [f for f in flags if set(f.get("majors") or ()) & ctx.principal.majors]
    reviews = ctx.api("tasks.list", kind="course_review", status="all")["tasks"]
    by_course = {_review_key(t): t for t in reviews}
    on = today()
    for flag in flags:
        review = by_course.get((flag["semester"], flag["course_code"]))
        if review:
            review["overdue_days"] = overdue_days(review, on)
        flag["review"] = review
    flags.sort(key=lambda f: (f["semester"], f["course_code"]), reverse=True)
    to_review = [t for t in reviews if t["status"] == "submitted" and t.get("assignee") == ctx.principal.staff_id]
    return "courses.html", {"flags": flags, "to_review": to_review, "saved": saved_note(request)}
