"""Review before release and trying a policy, for academic affairs (the vice dean reads along):

* the pending lists (待审核预警): each batch's students with their change and why; confirm a batch, or exclude a
  student with a reason (forms post; the student id travels in the body);
* what-if (策略试算): a policy file uploaded or pasted, compared with today by level, cohort and class.
"""
from __future__ import annotations

import base64

from services.gateway.errors import Unprocessable
from services.gateway.web.charts import LEVEL_COLOURS, Bar, column_pairs
from services.gateway.web.i18n import Translator
from services.gateway.web.views import see_other
from services.gateway.web.views.tasks import semester_arg
from shared.academic.semesters import sort_key
from shared.academic.vocabulary import LEVELS

WAITING = ("pending", "confirmed")           # a change still to be announced
SAVED = ("confirmed", "excluded")
KINDS = ("issued", "escalated", "downgraded", "lifted")


def _batches(ctx, semester: str | None) -> list[dict]:
    """The waiting batches with every change (excluded and superseded ones apart, with who and why)."""
    batches = ctx.api("warnings.pending", semester=semester, everything=True)["batches"]
    for batch in batches:
        # Class by class, a student's changes together (one exclusion covers all of them in the batch).
        batch["waiting"] = sorted((c for c in batch["changes"] if c["release_status"] in WAITING),
                                  key=lambda c: (c.get("class_name") or "", c["student_id"], sort_key(c["semester"])))
        batch["decided"] = [c for c in batch["changes"] if c["release_status"] not in WAITING]
        levels = {}
        for change in batch["waiting"]:
            levels[change["new_level"]] = levels.get(change["new_level"], 0) + 1
        batch["by_level"] = [(level, levels[level]) for level in ("none",) + LEVELS if levels.get(level)]
        batch["students"] = len({c["student_id"] for c in batch["waiting"]})
        batch["from_upload"] = not batch["correlation_id"].startswith("policy:")
    return [b for b in batches if b["waiting"] or b["decided"]]


def _page(ctx, request, *, errors=None, values=None, status=200):
    semester = semester_arg(request.args.get("semester") or request.form.get("semester"))
    batches = _batches(ctx, semester)
    saved = request.args.get("saved")
    context = {"batches": batches, "semester": semester, "may_decide": ctx.principal.can("warnings.release"),
               "may_read_history": ctx.principal.can("warnings.read"),
               "saved": saved if saved in SAVED else None, "errors": errors or {}, "values": values or {},
               "waiting": sum(b["students"] for b in batches)}
    return ("pending.html", context, status) if status != 200 else ("pending.html", context)


def pending(ctx, request):
    return _page(ctx, request)


def _batch_id(request) -> int | None:
    value = (request.form.get("batch_id") or "").strip()
    return int(value) if value.isdigit() and 0 < int(value) < 2**31 else None


def decide(ctx, request):
    """POST: confirm a batch (action=confirm) or exclude a student of it with a reason (action=exclude)."""
    action, batch_id = request.form.get("action"), _batch_id(request)
    if batch_id is None or action not in ("confirm", "exclude"):
        return _page(ctx, request, errors={"_form": "pending.bad_request"}, status=400)
    if action == "confirm":
        try:
            answer = ctx.api("warnings.confirm", batch_id=batch_id)
        except Unprocessable as exc:      # e.g. the upload is still being evaluated: say why, list unchanged
            return _page(ctx, request, errors={"_form": exc.reason}, status=422)
        if answer["status"] == "released":
            # The announcement starts the notices and tasks: follow them on the cascade's page.
            return see_other(f"/ui/uploads/{answer['correlation_id']}", confirmed=answer["released"])
        return see_other("/ui/pending", saved="confirmed")
    student_id = (request.form.get("student_id") or "").strip()
    reason = (request.form.get("reason") or "").strip()
    key = f"{batch_id}:{student_id}"
    if not reason:
        return _page(ctx, request, errors={key: "error.reason_required"}, values={key: reason}, status=422)
    try:
        ctx.api("warnings.exclude", batch_id=batch_id, student_id=student_id, reason=reason)
    except Unprocessable as exc:
        return _page(ctx, request, errors={key: exc.reason}, values={key: reason}, status=422)
    return see_other("/ui/pending", saved="excluded")


# --- what-if ----------------------------------------------------------------------------------------------------

def whatif_form(ctx, request):
    return "whatif.html", {"answer": None, "policy_text": "", "semester": ""}


def _policy_params(request) -> dict:
    """The policy as the API takes it: an uploaded file wins over the text area."""
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        return {"filename": upload.filename, "content_b64": base64.b64encode(upload.read()).decode("ascii")}
    text = request.form.get("policy_text") or ""
    return {"policy_text": text} if text.strip() else {}


def whatif(ctx, request):
    params = _policy_params(request)
    semester_typed = (request.form.get("semester") or "").strip()
    kept = {"policy_text": request.form.get("policy_text") or "", "semester": semester_typed}
    if not params:
        return "whatif.html", {**kept, "answer": None, "error": "whatif.no_policy"}, 400
    if semester_typed and not semester_arg(semester_typed):
        return "whatif.html", {**kept, "answer": None, "error": "whatif.bad_semester"}, 422
    try:
        answer = ctx.api("policy.what_if", semester=semester_arg(semester_typed), **params)
    except Unprocessable as exc:       # a policy the service cannot use: what is wrong and where
        return "whatif.html", {**kept, "answer": None, "refused": exc.reason}, 422
    if "content_b64" in params:        # show what was tried, so it can be edited and tried again
        kept["policy_text"] = base64.b64decode(params["content_b64"]).decode("utf-8-sig", errors="replace")
    t = Translator(ctx.lang)
    chart = column_pairs(
        t("whatif.chart"),
        [Bar(t(f"level.{level}"), counts["candidate"], counts["today"], LEVEL_COLOURS[level])
         for level, counts in answer["by_level"].items() if level in LEVEL_COLOURS],
        t("whatif.candidate", version=answer["candidate_policy"]), t("whatif.today", version=answer["current_policy"]),
        value_format=lambda v: str(int(v)))
    changes = sorted(answer["changes"], key=lambda c: (sort_key(c["semester"]), c.get("class_name") or "",
                                                       c["student_id"]))
    return "whatif.html", {**kept, "answer": answer, "changes": changes, "chart": chart, "kinds": KINDS}
