"""Academic affairs uploads a file: a rejected one shows every problem row by row (nothing stored); an accepted
one leads to its page, which follows the cascade until it has settled."""
import base64
import io
import re

from aq_cli.trace_tree import render
from aq_cli.tracking import settlement
from services.gateway.errors import Unprocessable
from services.gateway.web.progress import progress
from tests.unit.gateway_web.fakes import FakeCtx, get, post, principal

AFFAIRS = principal("academic_affairs", "A0001", "教务员甲")

REJECTED = Unprocessable("the file was rejected, nothing was stored: 2 problem(s)", errors=[
    {"file": "bad.csv", "row": 3, "field": "score", "header": "成绩", "value": "abc",
     "reason": "not a score", "reason_zh": "不是有效成绩", "reason_en": "not a score"},
    {"file": "bad.csv", "row": 5, "field": "student_id", "header": "学号", "value": "999",
     "reason": "unknown student", "reason_zh": "学号不在名册中", "reason_en": "unknown student"},
])


def upload(ctx, content=b"x", name="grades.csv"):
    return post(ctx, "/ui/upload", {"file": (io.BytesIO(content), name)}, content_type="multipart/form-data")


def test_a_rejected_file_is_reported_row_by_row_in_the_readers_language():
    page = upload(FakeCtx(AFFAIRS, answers={"grades.upload": REJECTED}), name="bad.csv")
    assert page.status_code == 422
    assert "文件 bad.csv 未被接受：共 2 个问题，没有保存任何数据" in page.text
    rows = re.findall(r"<tr><td>bad.csv</td><td class=\"num\">(\d+)</td>\s*<td>([^<]*)</td><td><code>([^<]*)</code></td>"
                      r"<td>([^<]*)</td></tr>", page.text)
    assert rows == [("3", "成绩 (score)", "abc", "不是有效成绩"), ("5", "学号 (student_id)", "999", "学号不在名册中")]
    english = upload(FakeCtx(AFFAIRS, lang="en", answers={"grades.upload": REJECTED}), name="bad.csv")
    assert "unknown student" in english.text and "nothing was stored" in english.text


def test_an_accepted_file_goes_to_its_cascade_page_with_what_was_stored():
    ctx = FakeCtx(AFFAIRS, answers={"grades.upload": {"status": "accepted", "upload_id": "U-7f3a", "rows": 120,
                                                      "new": 100, "corrected": 5, "unchanged": 15, "batches": 1}})
    response = upload(ctx, content="学号,成绩\n".encode("gbk"), name="成绩.csv")
    assert response.status_code == 303
    assert response.headers["Location"] == "/ui/uploads/U-7f3a?rows=120&new=100&corrected=5&unchanged=15"
    (params,) = ctx.called("grades.upload")
    assert params["filename"] == "成绩.csv" and base64.b64decode(params["content_b64"]) == "学号,成绩\n".encode("gbk")


def test_no_file_chosen_is_said_without_asking_the_api():
    ctx = FakeCtx(AFFAIRS)
    response = post(ctx, "/ui/upload", {}, content_type="multipart/form-data")
    assert response.status_code == 400 and "请选择要上传的文件" in response.text and ctx.calls == []


# --- the cascade's progress ---------------------------------------------------------------------------------

def ledgers(handled_by_warnings: bool):
    """One upload: grades emitted records_stored (3 subscribers) and upload_completed (1); warnings has or has not
    handled the batch yet."""
    emitted = [{"event_id": "e1", "type": "grades.records_stored", "causation_id": None, "published": True},
               {"event_id": "e2", "type": "grades.upload_completed", "causation_id": None, "published": True}]
    empty = {"emitted": [], "consumed": []}
    consumed = lambda service, handler, event: {"event_id": event, "handler": handler, "type": "", "duration_ms": 1}
    result = {"grades": {"emitted": emitted, "consumed": [],
                         "upload": {"filename": "g.csv", "uploaded_by": "user:a", "rows": 2, "new": 2, "corrected": 0,
                                    "unchanged": 0, "batches": 1}},
              "warnings": {**empty, "consumed": [consumed("warnings", "on_records_stored", "e1")] if handled_by_warnings else []},
              "assessment": {**empty, "consumed": [consumed("assessment", "on_records_stored", "e1"),
                                                    consumed("assessment", "on_upload_completed", "e2")]},
              "advising": {**empty, "consumed": [consumed("advising", "on_records_stored", "e1")]},
              "notification": {**empty, "pending_deliveries": 0}, "roster": empty}
    return result


def status_of(ledger):
    state = settlement(ledger, [], "U1")
    return {"upload_id": "U1", "settled": state.settled, "waiting": state.waiting, "stuck": [],
            "tree": render("U1", ledger, state)}


def test_progress_counts_the_handled_deliveries_of_the_trace_the_cli_draws():
    running = progress(status_of(ledgers(handled_by_warnings=False)))
    assert (running.state, running.done, running.expected) == ("running", 3, 4)
    assert running.percent == 75 and running.waiting_count == 1
    settled = progress(status_of(ledgers(handled_by_warnings=True)))
    assert (settled.state, settled.done, settled.expected, settled.percent) == ("settled", 4, 4, 100)


def test_the_page_reloads_itself_until_the_cascade_settles():
    running = status_of(ledgers(handled_by_warnings=False))
    ctx = FakeCtx(AFFAIRS, answers={"uploads.status": running})
    page = get(ctx, "/ui/uploads/U1?rows=2&new=2&corrected=0&unchanged=0").text
    assert '<meta http-equiv="refresh" content="2; url=/ui/uploads/U1?rows=2&amp;new=2&amp;corrected=0&amp;unchanged=0&amp;n=1">' in page
    assert "已接受：2 行，新增 2，更正 0，未变 0" in page
    assert 'value="75"' in page and "处理中" in page and "已处理 3/4" in page
    ctx.answers["uploads.status"] = status_of(ledgers(handled_by_warnings=True))
    ctx.answers["warnings.pending"] = {"batches": []}
    page = get(ctx, "/ui/uploads/U1?n=5").text
    assert "http-equiv" not in page and "处理完毕" in page and 'value="100"' in page
    assert "grades.records_stored" in page                  # the trace itself
    assert "for-review" not in page                         # nothing of this upload waits for review


def test_a_stuck_cascade_says_what_is_parked_and_stops_reloading():
    stuck = {**status_of(ledgers(False)), "stuck": [{"type": "grades.records_stored", "queue": "aq.warnings.x",
                                                      "attempts": 3, "error": "boom"}]}
    page = get(FakeCtx(AFFAIRS, answers={"uploads.status": stuck}), "/ui/uploads/U1").text
    assert "处理受阻" in page and "aq.warnings.x" in page and "http-equiv" not in page


def test_an_unknown_upload_id_is_said_plainly():
    ctx = FakeCtx(AFFAIRS, answers={"uploads.status": Unprocessable("no upload with this id", field="upload_id")})
    page = get(ctx, "/ui/uploads/NOPE")
    assert page.status_code == 404 and "没有这个上传" in page.text


def test_the_trace_form_posts_the_id_so_the_page_can_be_found_again():
    response = post(FakeCtx(AFFAIRS), "/ui/trace", {"upload_id": "U-42"})
    assert response.status_code == 303 and response.headers["Location"] == "/ui/uploads/U-42"
    assert post(FakeCtx(AFFAIRS), "/ui/trace", {"upload_id": "../x y"}).status_code == 404


def test_a_file_over_the_limit_is_refused_with_the_limit_named():
    from werkzeug.test import EnvironBuilder
    from werkzeug.wrappers import Request
    from services.gateway.web.app import handle
    from tests.unit.gateway_web.fakes import CSRF
    ctx = FakeCtx(AFFAIRS)
    builder = EnvironBuilder(path="/ui/upload", method="POST",
                             data={"csrf_token": CSRF, "file": (io.BytesIO(b"x" * (1024 * 1024 + 1)), "big.csv")})
    request = Request(builder.get_environ())
    request.max_content_length = 1024 * 1024        # the gateway sets its limit on each request
    response = handle(request, ctx)
    assert response.status_code == 413 and "文件过大：上限为 1 MB" in response.get_data(as_text=True)
    assert ctx.calls == []
