"""Feeding the system (aq roster import, aq grades upload / history, aq outcomes import, aq wait, aq trace)."""
from __future__ import annotations

from marshmallow import fields, validate

from services.gateway.api.common import Body, FileBody, Out, file_rejection, id_field, require_student
from services.gateway.domain.masking import mask_text
from services.gateway.errors import NotFound
from services.gateway.routes import endpoint
from shared import config


class RosterImportBody(Body):
    files = fields.List(fields.Nested(FileBody), required=True, validate=validate.Length(min=1, max=20),
                        metadata={"description": "classes, students and staff files, in any order"})


class RosterImportOut(Out):
    status = fields.String()
    import_id = fields.String()
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    changed = fields.Dict(keys=fields.String(), values=fields.Integer())


class GradeUploadBody(FileBody):
    sheet = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100),
                          metadata={"description": "the sheet of an .xlsx workbook (default: the first)"})


class GradeUploadOut(Out):
    status = fields.String()
    upload_id = fields.String()
    rows = fields.Integer()
    new = fields.Integer()
    corrected = fields.Integer()
    unchanged = fields.Integer()
    batches = fields.Integer()


class OutcomesImportBody(FileBody):
    pass


class OutcomesImportOut(Out):
    status = fields.String()
    import_id = fields.String()
    rows = fields.Integer()
    new = fields.Integer()
    changed = fields.Integer()
    unchanged = fields.Integer()


class HistoryBody(Body):
    student_id = id_field(required=True)
    course_code = id_field()


class CorrectionOut(Out):
    old = fields.Dict()
    new = fields.Dict()
    upload_id = fields.String(allow_none=True)
    filename = fields.String(allow_none=True)
    changed_by = fields.String(allow_none=True)
    changed_at = fields.String(allow_none=True)


class RecordOut(Out):
    student_id = fields.String()
    semester = fields.String()
    course_code = fields.String()
    course_name = fields.String()
    credits = fields.Float()
    course_type = fields.String()
    exam_type = fields.String()
    score = fields.String()
    first_score = fields.String()
    teacher = fields.String(allow_none=True)
    offering_college = fields.String(allow_none=True)
    upload_id = fields.String(allow_none=True)
    filename = fields.String(allow_none=True)
    corrections = fields.List(fields.Nested(CorrectionOut))


class HistoryOut(Out):
    records = fields.List(fields.Nested(RecordOut))


class UploadPath(Body):
    upload_id = id_field(required=True)


class StuckOut(Out):
    type = fields.String()
    queue = fields.String()
    attempts = fields.Integer(allow_none=True)
    error = fields.String(allow_none=True)


class UploadStatusOut(Out):
    upload_id = fields.String()
    settled = fields.Boolean()
    waiting = fields.List(fields.String())
    stuck = fields.List(fields.Nested(StuckOut))
    tree = fields.String(metadata={"description": "the cascade as `aq trace` draws it (no personal data)"})


def _payload(body: dict) -> tuple[str, str]:
    return body["filename"], body["content_b64"]


@endpoint("POST", "/api/roster/imports", name="roster.import", permission="roster.import",
          request=RosterImportBody(), response=RosterImportOut(), audit="change", status=201,
          summary="Import roster files (classes, students with guardians, staff). A file with any bad row is "
                  "rejected whole: 422 with every problem (file, row, field, reason).")
def roster_import(ctx, body):
    answer = ctx.rpc("roster", "import_files", files=body["files"], imported_by=ctx.principal.user_id)
    if answer["status"] != "accepted":
        file_rejection(answer)
    ctx.audit_subject = {"import_id": answer["import_id"], "files": [f["filename"] for f in body["files"]]}
    return answer


@endpoint("POST", "/api/grades/uploads", name="grades.upload", permission="grades.upload",
          request=GradeUploadBody(), response=GradeUploadOut(), audit="change", status=201,
          summary="Upload a grades file (CSV in any encoding, or .xlsx; JSON with base64 content, or a multipart "
                  "form with field `file`). Bad rows: 422 with the row-by-row report; nothing is stored.")
def grades_upload(ctx, body):
    filename, content = _payload(body)
    answer = ctx.rpc("grades", "upload", filename=filename, content_b64=content, uploaded_by=ctx.principal.user_id,
                     sheet=body.get("sheet"))
    if answer["status"] != "accepted":
        file_rejection(answer)
    ctx.audit_subject = {"upload_id": answer["upload_id"], "filename": filename}
    return answer


@endpoint("POST", "/api/outcomes/imports", name="outcomes.import", permission="outcomes.import",
          request=OutcomesImportBody(), response=OutcomesImportOut(), audit="change", status=201,
          summary="Import an outcomes file (CET, certificates, destinations, awards, enrolment); bad rows: 422 "
                  "with the row-by-row report.")
def outcomes_import(ctx, body):
    filename, content = _payload(body)
    answer = ctx.rpc("assessment", "import_outcomes", filename=filename, content_b64=content,
                     imported_by=ctx.principal.user_id)
    if answer["status"] != "accepted":
        file_rejection(answer)
    ctx.audit_subject = {"import_id": answer["import_id"], "filename": filename}
    return answer


@endpoint("POST", "/api/grades/history", name="grades.history", permission="grades.read",
          request=HistoryBody(), response=HistoryOut(), audit="read",
          summary="A student's records (of one course, if given) with every correction: old and new value, which "
                  "upload, who, when. POST so that the student id stays out of URLs and logs.")
def grades_history(ctx, body):
    require_student(ctx, body["student_id"])
    records = ctx.rpc("grades", "history", student_id=body["student_id"], course_code=body.get("course_code"))
    return {"records": records}


@endpoint("GET", "/api/uploads/<upload_id>/status", name="uploads.status", permission="uploads.trace",
          request=UploadPath(), response=UploadStatusOut(),
          summary="Has an upload's cascade settled (what `aq wait` polls), and if not, where it waits or is stuck.")
def upload_status(ctx, body):
    from aq_cli.trace_tree import render
    from aq_cli.tracking import settlement
    from shared.messaging.parking import list_parked
    upload_id = body["upload_id"]
    ledgers = {service: ctx.rpc(service, "trace", correlation_id=upload_id) for service in config.SERVICES}
    if not any(ledger["emitted"] or ledger["consumed"] for ledger in ledgers.values()) \
            and not (ledgers.get("grades") or {}).get("upload"):
        raise NotFound("no upload, import or batch with this id", field="upload_id")
    state = settlement(ledgers, list_parked(ctx.gateway.amqp_uri), upload_id)
    stuck = [{**item, "error": mask_text(item.get("error"))} for item in state.stuck]
    return {"upload_id": upload_id, "settled": state.settled, "waiting": state.waiting, "stuck": stuck,
            "tree": mask_text(render(upload_id, ledgers, state))}
