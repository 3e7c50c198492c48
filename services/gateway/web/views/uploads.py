"""Academic affairs uploads a grades file, reads the row-by-row report of a rejected one, and follows an accepted
one's cascade until it has settled (the same rule as ``aq wait``)."""
from __future__ import annotations

import base64
import re
from urllib.parse import urlencode

from services.gateway.errors import NotFound, Unprocessable
from services.gateway.web.progress import progress
from services.gateway.web.views import see_other

UPLOAD_ID = re.compile(r"^[A-Za-z0-9_.:@-]{1,64}$")
SUMMARY = ("rows", "new", "corrected", "unchanged")


def upload_form(ctx, request):
    return "upload.html", {"problems": None}


def _problem_rows(problems: list[dict], lang: str, default_file: str) -> list[dict]:
    """The API's problems ({file, row, field, header, value, reason, reason_zh, reason_en}; a bad request has only
    field and reason) as rows of the report table, in the reader's language."""
    rows = []
    for p in problems:
        reason = p.get(f"reason_{lang}") or p.get("reason") or p.get("reason_zh") or ""
        column = p.get("column") or p.get("field")
        header = p.get("header")
        rows.append({"file": p.get("file") or default_file, "row": p.get("row"),
                     "field": header if header and header == column else
                     (f"{header} ({column})" if header and column else column),
                     "value": p.get("value"), "reason": reason})
    return rows


def upload(ctx, request):
    file = request.files.get("file")
    if file is None or not file.filename:
        return "upload.html", {"problems": None, "error": "error.no_file"}, 400
    sheet = (request.form.get("sheet") or "").strip() or None
    content = base64.b64encode(file.read()).decode("ascii")
    try:
        answer = ctx.api("grades.upload", filename=file.filename, content_b64=content, sheet=sheet)
    except Unprocessable as exc:       # a rejected file: every problem, row by row; nothing was stored
        return "upload.html", {"problems": _problem_rows(exc.errors, ctx.lang, file.filename),
                               "filename": file.filename}, 422
    # The counts ride along in the query (no personal data) so the next page can say what was accepted.
    return see_other(f"/ui/uploads/{answer['upload_id']}", **{k: answer.get(k) for k in SUMMARY})


def trace_lookup(ctx, request):
    """GET shows the form; POST (the id typed in) goes to that upload's page."""
    if request.method == "POST":
        upload_id = (request.form.get("upload_id") or "").strip()
        if UPLOAD_ID.match(upload_id):
            return see_other(f"/ui/uploads/{upload_id}")
        return "trace_lookup.html", {"error": "error.not_found"}, 404
    return "trace_lookup.html", {}


def upload_status(ctx, request, upload_id: str):
    if not UPLOAD_ID.match(upload_id):
        raise NotFound("no such upload", field="upload_id")
    try:
        status = ctx.api("uploads.status", upload_id=upload_id)
    except Unprocessable:           # the API's word for an id nothing was stored under
        return "trace_lookup.html", {"error": "trace.unknown"}, 404
    state = progress(status)
    polls = _polls(request)
    summary = {k: request.args.get(k) for k in SUMMARY if (request.args.get(k) or "").isdigit()}
    # Until it settles the page reloads itself (no script) every 2 s for at most ~5 minutes; then a link.
    refresh = None
    if state.state == "running" and polls < 150:
        carried = {"confirmed": request.args["confirmed"]} if request.args.get("confirmed", "").isdigit() else {}
        query = urlencode({**summary, **carried, "n": polls + 1})
        refresh = {"seconds": 2, "url": f"/ui/uploads/{upload_id}?{query}"}
    confirmed = request.args.get("confirmed", "")
    return "upload_status.html", {"upload_id": upload_id, "p": state,
                                  "summary": summary if len(summary) == len(SUMMARY) else None,
                                  "refresh": refresh, "confirmed": int(confirmed) if confirmed.isdigit() else None,
                                  "for_review": _waiting_for_review(ctx, upload_id, state.state)}


def _waiting_for_review(ctx, upload_id: str, state: str) -> int | None:
    """Once the cascade has settled: how many students' warning changes of this upload wait for review (the
    policy's review before release holds them back until academic affairs confirm); None for whoever cannot see."""
    if state != "settled" or not ctx.principal.can("warnings.pending"):
        return None
    batches = ctx.api("warnings.pending")["batches"]
    return len({c["student_id"] for b in batches if b["correlation_id"] == upload_id for c in b["changes"]})


def _polls(request) -> int:
    value = request.args.get("n", "0")
    return int(value) if value.isdigit() else 0
