"""A student's warning history (学业预警记录): a search form that POSTs the student id (never in a URL), and the
timeline the API merges (aq_cli/timeline.py) — warnings with reasons and review, notices and acknowledgements,
tasks with their records, counselor lists — semester by semester, in the reader's language."""
from __future__ import annotations

from services.gateway.errors import Forbidden, Unprocessable
from services.gateway.web.i18n import Translator
from services.gateway.web.views.uploads import UPLOAD_ID

STUDENT_ID = UPLOAD_ID          # the API's ids: letters, digits and _-:.@, at most 64


def search(ctx, request):
    return "history.html", {"history": None, "student_id": ""}


def _semester_title(code: str, t) -> str:
    if code == "?":
        return t("history.semester_unknown")
    term = {"1": "history.autumn", "2": "history.spring", "3": "history.summer"}.get(code[-1:])
    return t(term, years=code[:9], code=code) if term else code


def show(ctx, request):
    student_id = (request.form.get("student_id") or "").strip()
    if not STUDENT_ID.match(student_id):
        return "history.html", {"history": None, "student_id": student_id, "error": "history.bad_id"}, 422
    try:
        history = ctx.api("warnings.history", student_id=student_id, locale=ctx.lang)
    except Forbidden:
        # Said on the page, with the form kept: the id may simply be mistyped.
        return "history.html", {"history": None, "student_id": student_id, "error": "history.not_yours"}, 403
    except Unprocessable as exc:
        return "history.html", {"history": None, "student_id": student_id, "refused": exc.reason}, 422
    t = Translator(ctx.lang)
    for group in history["semesters"]:
        group["title"] = _semester_title(group["semester"], t)
    empty = not history["semesters"] and not history["standings"]
    return "history.html", {"history": history, "student_id": student_id, "empty": empty}
