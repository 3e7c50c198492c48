"""The issue-#4 pages: academic affairs' pending warnings (confirm a batch, exclude a student with a reason), the
what-if page (a policy uploaded or pasted, compared by level, cohort and class), a student's history (the id
POSTed, never in a URL), the counselor's lists with their confirm form — and dismissal (退学警示) as a fourth level
everywhere, and the sign-in recording the client address the gateway worked out."""
import base64
import re
from io import BytesIO

from services.gateway.errors import Forbidden, Unprocessable
from services.gateway.web import charts
from tests.unit.gateway_web.fakes import FakeCtx, get, post, principal
from tests.unit.gateway_web.test_overview_pages import lists_answers

AFFAIRS = principal("academic_affairs", "A0001", "教务员甲")
VICE_DEAN = principal("vice_dean", "V0001", "副院长")
HEAD = principal("head_teacher", "T1001", "王老师", classes=("机械2101",))
COUNSELOR = principal("counselor", "C2021", "余丽明", cohorts=("2021",))


def change(student_id, name, class_name, old, new, kind="issued", semester="2021-2022-1", status="pending",
           **more):
    return {"change_id": f"c-{student_id}-{semester}", "student_id": student_id, "name": name,
            "class_name": class_name, "major": "机械", "cohort": 2021, "semester": semester, "kind": kind,
            "old_level": old, "new_level": new, "escalated": False, "policy_version": "default-1",
            "rules": ["semester_failed_credits"],
            "reasons": [{"rule": "semester_failed_credits", "level": new, "measure": 11.0, "threshold": 8.0,
                         "comparison": ">=", "courses": []}],
            "release_status": status, "excluded_by": None, "excluded_at": None, "reason": None,
            "superseded_by": None, "computed_at": "2021-10-01T01:00:00+00:00", "released_at": None, **more}


def batch(batch_id=7, status="pending", changes=None, correlation_id="U-2021a"):
    changes = changes if changes is not None else [
        change("210101002", "林敏", "机械2101", "none", "yellow"),
        change("210101001", "杨建明", "机械2101", "none", "orange"),
        change("210101001", "杨建明", "机械2101", "yellow", "red", kind="escalated", semester="2021-2022-2"),
        change("210201001", "周涛", "电气2101", "orange", "dismissal", kind="escalated"),
        change("210101009", "吴刚", "机械2101", "none", "yellow", status="excluded", excluded_by="A0001",
               excluded_at="2021-10-02T02:00:00+00:00", reason="已办理缓考")]
    return {"batch_id": batch_id, "correlation_id": correlation_id, "status": status,
            "created_at": "2021-10-01T01:00:00+00:00", "confirmed_by": "A0001" if status == "confirmed" else None,
            "confirmed_at": "2021-10-01T02:00:00+00:00" if status == "confirmed" else None,
            "release_at": "2021-10-03T02:00:00+00:00" if status == "confirmed" else None, "released_at": None,
            "counts": {}, "changes": changes}


def pending_ctx(who=AFFAIRS, **answers):
    return FakeCtx(who, answers={"warnings.pending": {"batches": [batch()]}, **answers})


def urls(html):
    return re.findall(r'(?:href|action|src)="([^"]*)"', html)


# --- pending warnings ---------------------------------------------------------------------------------------------

def test_academic_affairs_see_each_batch_class_by_class_with_why_and_the_forms():
    ctx = pending_ctx()
    page = get(ctx, "/ui/pending").text
    assert ctx.called("warnings.pending") == [{"semester": None, "everything": True}]
    assert "共 3 名学生的预警变化待审核" in page and "批次 7" in page
    assert 'href="/ui/uploads/U-2021a"' in page                     # the upload it came from
    # 机械2101 before 电气2101; a student's two semesters together, then the next student
    order = [page.index(x) for x in ("210101001", "210101002", "210201001")]
    assert order == sorted(order)
    assert "本学期不及格学分 11 ≥ 8" in page
    assert 'class="badge level-dismissal">退学警示</span>' in page and 'class="badge level-none">无预警</span>' in page
    # one exclusion form per student (not per change), the student id in the body; one confirm form per batch
    assert page.count('name="action" value="exclude"') == 3
    assert page.count('name="student_id" value="210101001"') == 2    # the history button and the exclusion
    assert page.count('name="action" value="confirm"') == 1 and 'name="batch_id" value="7"' in page
    assert "已办理缓考" in page                                       # the decided ones, with who and why
    forms = set(re.findall(r'<form method="post" action="([^"]*)"', page))
    assert forms == {"/ui/pending/decide", "/ui/history", "/logout"}
    assert not any(p in u for u in urls(page) for p in ("210101", "杨建明", "林敏", "周涛"))


def test_the_vice_dean_reads_the_lists_but_gets_no_form_and_cannot_post_one():
    ctx = pending_ctx(VICE_DEAN)
    page = get(ctx, "/ui/pending").text
    assert "杨建明" in page and "确认和排除由教务员办理" in page
    assert 'action="/ui/pending/decide"' not in page
    refused = post(ctx, "/ui/pending/decide", {"action": "confirm", "batch_id": "7"})
    assert refused.status_code == 403 and ctx.called("warnings.confirm") == []


def test_navigation_leads_academic_affairs_and_the_vice_dean_to_the_pending_list_not_a_head_teacher():
    assert 'href="/ui/pending"' in get(pending_ctx(), "/ui/pending").text
    head = get(FakeCtx(HEAD, answers={"tasks.list": {"tasks": []}}), "/ui/tasks").text
    assert 'href="/ui/pending"' not in head and 'href="/ui/whatif"' not in head and 'href="/ui/history"' in head
    assert get(FakeCtx(HEAD), "/ui/pending").status_code == 403


def test_confirming_follows_the_announcement_on_the_cascades_page():
    ctx = pending_ctx(**{"warnings.confirm": {"status": "released", "batch_id": 7, "correlation_id": "U-2021a",
                                              "changes": 4, "released": 4, "release_at": None}})
    response = post(ctx, "/ui/pending/decide", {"action": "confirm", "batch_id": "7"})
    assert response.status_code == 303 and response.headers["Location"] == "/ui/uploads/U-2021a?confirmed=4"
    assert ctx.called("warnings.confirm") == [{"batch_id": 7}]


def test_a_confirmation_with_an_objection_window_comes_back_to_the_list_which_says_when():
    ctx = pending_ctx(**{"warnings.confirm": {"status": "confirmed", "batch_id": 7, "correlation_id": "U-2021a",
                                              "changes": 4, "released": 0,
                                              "release_at": "2021-10-03T02:00:00+00:00"}})
    response = post(ctx, "/ui/pending/decide", {"action": "confirm", "batch_id": "7"})
    assert response.headers["Location"] == "/ui/pending?saved=confirmed"
    ctx.answers["warnings.pending"] = {"batches": [batch(status="confirmed")]}
    page = get(ctx, "/ui/pending?saved=confirmed").text
    assert "已确认，异议期结束后发布" in page and "将于 2021-10-03 10:00 发布" in page   # college time (UTC+8)
    assert 'name="action" value="confirm"' not in page and 'name="action" value="exclude"' in page


def test_a_refused_confirmation_says_why_on_the_list():
    ctx = pending_ctx(**{"warnings.confirm": Unprocessable("batch 7: records of U-2021a are still being "
                                                           "evaluated", field="batch_id")})
    response = post(ctx, "/ui/pending/decide", {"action": "confirm", "batch_id": "7"})
    assert response.status_code == 422 and "still being evaluated" in response.text and "批次 7" in response.text


def test_an_exclusion_needs_a_reason_and_keeps_what_was_typed_when_refused():
    ctx = pending_ctx(**{"warnings.exclude": Unprocessable("student 210101001 has no change waiting in batch 7",
                                                           field="student_id")})
    empty = post(ctx, "/ui/pending/decide", {"action": "exclude", "batch_id": "7", "student_id": "210101001",
                                             "reason": "  "})
    assert empty.status_code == 422 and "请填写排除原因" in empty.text and ctx.called("warnings.exclude") == []
    assert re.search(r'<details class="exclude" open>\s*<summary>排除…</summary>\s*<form[^>]*>(?:(?!</form>).)*'
                     r'value="210101001"', empty.text, re.S)
    refused = post(ctx, "/ui/pending/decide", {"action": "exclude", "batch_id": "7", "student_id": "210101001",
                                               "reason": "学院另行约谈"})
    assert refused.status_code == 422 and "no change waiting" in refused.text and ">学院另行约谈</textarea>" in refused.text


def test_an_exclusion_with_a_reason_is_sent_and_the_list_says_so():
    ctx = pending_ctx(**{"warnings.exclude": {"status": "excluded", "batch_id": 7, "student_id": "210101001",
                                              "changes": []}})
    response = post(ctx, "/ui/pending/decide", {"action": "exclude", "batch_id": "7", "student_id": "210101001",
                                                "reason": " 已因病办理缓考 "})
    assert response.status_code == 303 and response.headers["Location"] == "/ui/pending?saved=excluded"
    assert ctx.called("warnings.exclude") == [{"batch_id": 7, "student_id": "210101001", "reason": "已因病办理缓考"}]
    assert post(ctx, "/ui/pending/decide", {"action": "drop", "batch_id": "7"}).status_code == 400


def test_nothing_waiting_is_said_plainly():
    page = get(FakeCtx(AFFAIRS, answers={"warnings.pending": {"batches": []}}), "/ui/pending").text
    assert "没有待审核的预警" in page and 'value="confirm"' not in page


def test_the_upload_page_points_to_the_review_once_settled_and_says_what_was_confirmed():
    from tests.unit.gateway_web.test_upload_pages import ledgers, status_of
    settled = status_of(ledgers(handled_by_warnings=True))
    ctx = FakeCtx(AFFAIRS, answers={"uploads.status": settled, "warnings.pending": {"batches": [
        batch(correlation_id="U1"), batch(batch_id=8, correlation_id="U-other")]}})
    page = get(ctx, "/ui/uploads/U1").text
    assert re.search(r'id="for-review">本次计算有 4 名学生的预警变化待审核.*href="/ui/pending"', page)
    page = get(ctx, "/ui/uploads/U1?confirmed=4").text
    assert "已确认并发布 4 条预警变化" in page


# --- what-if ------------------------------------------------------------------------------------------------------

def whatif_answer(total=2):
    counts = {"issued": 1, "escalated": 0, "downgraded": 0, "lifted": 1, "total": 2} if total else \
        {"issued": 0, "escalated": 0, "downgraded": 0, "lifted": 0, "total": 0}
    changes = [{"student_id": "210101003", "name": "孙三", "cohort": "2021", "class_name": "机械2101",
                "semester": "2021-2022-1", "kind": "lifted", "old_level": "orange", "new_level": "none", "rules": []},
               {"student_id": "210201004", "name": "钱四", "cohort": "2021", "class_name": "电气2101",
                "semester": "2021-2022-1", "kind": "issued", "old_level": "none", "new_level": "yellow",
                "rules": ["gpa"]}] if total else []
    return {"current_policy": "default-1", "candidate_policy": "lower-2", "semester": None, "students": 120,
            "changes": changes, "by_kind": counts,
            "by_level": {"yellow": {"today": 5, "candidate": 6, "difference": 1},
                         "orange": {"today": 3, "candidate": 2, "difference": -1},
                         "red": {"today": 1, "candidate": 1, "difference": 0},
                         "dismissal": {"today": 0, "candidate": 0, "difference": 0}},
            "by_cohort": {"2021": counts} if total else {},
            "by_class": {"机械2101": {**counts, "issued": 0, "total": 1}, "电气2101": {**counts, "lifted": 0, "total": 1}}
            if total else {}}


def test_an_uploaded_policy_is_compared_by_level_cohort_and_class():
    ctx = FakeCtx(AFFAIRS, answers={"policy.what_if": whatif_answer()})
    page = post(ctx, "/ui/whatif", {"file": (BytesIO("version: lower-2\n".encode()), "lower.yml"), "semester": ""},
                content_type="multipart/form-data")
    assert page.status_code == 200
    [sent] = ctx.called("policy.what_if")
    assert sent["filename"] == "lower.yml" and sent["semester"] is None
    assert base64.b64decode(sent["content_b64"]) == b"version: lower-2\n"
    html = page.text
    assert "试算策略 lower-2，对比现行策略 default-1；共评估 120 名学生（全部学期）" in html
    assert "合计 2 处变化" in html and "未保存任何数据，也未通知任何人" in html
    level_table = re.search(r'id="by-level">(.*?)</section>', html, re.S).group(1)
    assert re.findall(r'<td class="num">([^<]+)</td>', level_table) == \
        ["5", "6", "+1", "3", "2", "-1", "1", "1", "0", "0", "0", "0"]
    chart = re.search(r'id="whatif-chart">(.*?)</section>', html, re.S).group(1)
    assert "<title>试算 lower-2 黄色预警: 6</title>" in chart and "<title>现行 default-1 橙色预警: 3</title>" in chart
    assert "退学警示" in chart
    assert re.search(r'id="by-class">.*机械2101.*电气2101', html, re.S)
    assert "孙三" in html and "钱四" in html and ">version: lower-2\n</textarea>" in html   # the file, to edit


def test_a_pasted_policy_and_a_semester_are_sent_as_text():
    ctx = FakeCtx(AFFAIRS, answers={"policy.what_if": whatif_answer(total=0)})
    page = post(ctx, "/ui/whatif", {"policy_text": "version: x\n", "semester": "2021-2022-1"},
                content_type="multipart/form-data").text
    assert ctx.called("policy.what_if") == [{"semester": "2021-2022-1", "policy_text": "version: x\n"}]
    assert "没有变化" in page and 'id="whatif-changes"' not in page


def test_a_policy_the_service_refuses_is_shown_with_the_text_kept_and_nothing_sent_is_asked_for():
    ctx = FakeCtx(AFFAIRS, answers={"policy.what_if": Unprocessable("lower.yml: rule gpa: thresholds out of order",
                                                                    field="policy_text")})
    page = post(ctx, "/ui/whatif", {"policy_text": "version: x\nrules: {gpa: 1}\n"}, content_type="multipart/form-data")
    assert page.status_code == 422 and "此策略无法使用：lower.yml: rule gpa: thresholds out of order" in page.text
    assert "rules: {gpa: 1}" in page.text
    nothing = post(ctx, "/ui/whatif", {"policy_text": "  "}, content_type="multipart/form-data")
    assert nothing.status_code == 400 and "请上传策略文件或粘贴其内容" in nothing.text
    bad = post(ctx, "/ui/whatif", {"policy_text": "v", "semester": "2021"}, content_type="multipart/form-data")
    assert bad.status_code == 422 and len(ctx.called("policy.what_if")) == 1


def test_the_what_if_page_in_english_and_only_for_who_may_try_a_policy():
    page = get(FakeCtx(AFFAIRS, lang="en"), "/ui/whatif").text
    assert "Warning policy what-if" in page and 'enctype="multipart/form-data"' in page
    assert get(FakeCtx(COUNSELOR), "/ui/whatif").status_code == 403


# --- a student's history ------------------------------------------------------------------------------------------

HISTORY = {"student_id": "210101001", "student": {"name": "杨建明", "class_name": "机械2101", "major": "机械",
                                                  "cohort": 2021},
           "standings": [{"semester": "2021-2022-1", "level": "orange", "status": "active"}],
           "semesters": [{"semester": "2021-2022-1", "events": [
               {"at": "2021-10-01T01:00:00+00:00", "semester": "2021-2022-1", "source": "warning", "what": "issued",
                "old_level": "none", "new_level": "orange", "escalated": False, "policy_version": "default-1",
                "release_status": "released", "reasons": [{"rule": "semester_failed_credits", "measure": 11.0,
                                                           "comparison": ">=", "threshold": 8.0,
                                                           "courses": [{"course_code": "MATH1"}]}],
                "text": "发布橙色预警 (本学期不及格学分 11 >= 8 [MATH1]; 策略 default-1; 已发布)"},
               {"at": "2021-10-01T01:05:00+00:00", "semester": "2021-2022-1", "source": "notice",
                "what": "warning_formal", "recipient_kind": "guardian", "recipient_id": "guardian:210101001",
                "channels": [{"channel": "email", "status": "sent"}, {"channel": "sms", "status": "failed"}],
                "text": "通知 warning_formal → 家长 guardian:210101001: email sent, sms failed"},
               {"at": "2021-10-02T01:00:00+00:00", "semester": "2021-2022-1", "source": "task", "what": "created",
                "task_id": "TK-9", "kind": "talk", "assignee": "T1001", "due": "2021-10-09", "status": "open",
                "text": "任务 talk → T1001，截止 2021-10-09（open）"}]},
               {"semester": "?", "events": [{"at": None, "semester": "?", "source": "acknowledgement",
                                             "what": "acknowledged", "recipient_kind": "guardian", "signer": "宋华英",
                                             "text": "家长已回执（签名：宋华英）"}]}],
           "missing": {"tasks": "advising: the advising service did not answer within 30s"}}


def test_the_history_is_found_by_a_posted_id_and_told_semester_by_semester():
    ctx = FakeCtx(HEAD, answers={"warnings.history": HISTORY})
    form = get(ctx, "/ui/history").text
    assert 'action="/ui/history"' in form and 'name="csrf_token"' in form and ctx.calls == []
    page = post(ctx, "/ui/history", {"student_id": " 210101001 "})
    assert page.status_code == 200
    assert ctx.called("warnings.history") == [{"student_id": "210101001", "locale": "zh"}]
    html = page.text
    assert "杨建明" in html and "2021-2022 学年第一学期（2021-2022-1）" in html and "学期未知" in html
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert "无预警 → 橙色预警 新发布 · 已发布 · 策略 default-1 本学期不及格学分 11 ≥ 8 (MATH1)" in text
    assert "2021-10-01 09:00" in html                       # the college's time
    assert "学业预警通知书 → 家长: 邮件 已发送 、短信 发送失败" in text
    assert '<a href="/ui/tasks/TK-9">一对一面谈</a>' in html and "→ T1001，截止 2021-10-09 · 待办" in text
    assert "家长已回执（签名：宋华英）" in text
    assert "缺少任务与名单：advising: the advising service did not answer" in html
    assert not any("210101001" in u for u in urls(html))


def test_a_student_outside_ones_scope_or_a_malformed_id_is_said_on_the_form():
    ctx = FakeCtx(HEAD, answers={"warnings.history": Forbidden("outside", field="student_id")})
    page = post(ctx, "/ui/history", {"student_id": "220101001"})
    assert page.status_code == 403 and "不在您负责的班级" in page.text and 'value="220101001"' in page.text
    bad = post(ctx, "/ui/history", {"student_id": "../x y"})
    assert bad.status_code == 422 and len(ctx.called("warnings.history")) == 1


def test_the_history_in_english_asks_for_english_texts():
    ctx = FakeCtx(AFFAIRS, lang="en", answers={"warnings.history": {**HISTORY, "missing": {}}})
    html = post(ctx, "/ui/history", {"student_id": "210101001"}).text
    assert ctx.called("warnings.history")[0]["locale"] == "en" and "Autumn 2021-2022 (2021-2022-1)" in html


# --- counselor lists ----------------------------------------------------------------------------------------------

def a_list(list_id="CL-1", version=2, confirmer="C2021", **more):
    return {"list_id": list_id, "semester": "2021-2022-1", "cohort": "2021", "version": version,
            "status": "unconfirmed",
            "students": 2, "warned": 1, "failed": 2, "confirmer": confirmer, "confirmed_by": None,
            "confirmed_at": None, "comment": None, "task_id": "TK-CL", "created_at": "2021-10-05T00:00:00+00:00",
            "whole": True, "changes": {"added": ["210101002"], "removed": []}, "recipients": [],
            "entries": [{"student_id": "210101001", "name": "杨建明", "class_name": "机械2101", "level": "orange",
                         "reasons": [], "failed_courses": [{"course_code": "MATH1", "course_name": "高等数学",
                                                            "result": "45"}], "failed_credits": 4.0},
                        {"student_id": "210101002", "name": "林敏", "class_name": "机械2101", "level": None,
                         "reasons": [], "failed_courses": [{"course_code": "PHY1", "course_name": "大学物理",
                                                            "result": "缺考"}], "failed_credits": 3.5}], **more}


def cohort_ctx(waiting=(), done=(), **answers):
    return FakeCtx(COUNSELOR, answers={"warnings.list": {"warnings": []}, "tasks.list": {"tasks": []},
                                       **lists_answers(waiting, done), **answers})


def test_the_counselor_sees_the_list_to_confirm_with_its_students_and_earlier_versions():
    earlier = {**{k: v for k, v in a_list(version=1).items() if k not in ("entries", "changes", "recipients")},
               "list_id": "CL-0", "status": "replaced"}
    page = get(cohort_ctx([a_list()], [earlier]), "/ui/cohort").text
    lists = re.search(r'<section class="card" id="lists".*?</section>', page, re.S).group(0)
    assert "2021 级 · 2021-2022-1 · 第 2 版" in lists and "共 2 人：预警 1 人，有不及格课程 2 人" in lists
    assert "较上一版新增 1 人、移出 0 人" in lists
    assert "高等数学 (45)" in lists and "大学物理 (缺考)" in lists and ">3.5<" in lists
    assert 'name="list_id" value="CL-1"' in lists and 'action="/ui/cohort"' in lists
    assert "已被新版本替代" in lists


def test_a_list_that_someone_else_confirms_has_no_button():
    page = get(cohort_ctx([a_list(confirmer="V0001", cohort="2022")]), "/ui/cohort").text
    assert 'name="list_id"' not in page and "此名单由 V0001 确认" in page


def test_confirming_a_list_posts_its_id_and_remark_and_comes_back_saved():
    ctx = cohort_ctx([a_list()], **{"lists.confirm": {"status": "confirmed", "list_id": "CL-1"}})
    response = post(ctx, "/ui/cohort", {"list_id": "CL-1", "comment": " 已与班主任核对 "})
    assert response.status_code == 303 and response.headers["Location"] == "/ui/cohort?saved=list_confirmed"
    assert ctx.called("lists.confirm") == [{"list_id": "CL-1", "comment": "已与班主任核对"}]
    assert "名单已确认" in get(ctx, "/ui/cohort?saved=list_confirmed").text


def test_a_refused_confirmation_says_why():
    ctx = cohort_ctx([a_list()], **{"lists.confirm": Unprocessable("list CL-1 is version 2; version 3 replaced it",
                                                                   field="list_id")})
    page = post(ctx, "/ui/cohort", {"list_id": "CL-1"})
    assert page.status_code == 422 and "未能确认：list CL-1 is version 2; version 3 replaced it" in page.text


# --- dismissal, the fourth level ----------------------------------------------------------------------------------

def test_dismissal_leads_the_cohort_page_and_has_a_colour_and_words():
    warnings = {"warnings": [
        {"student_id": "210101002", "name": "林敏", "class_name": "机械2101", "level": "red", "semester": "2021-2022-2"},
        {"student_id": "210101001", "name": "杨建明", "class_name": "机械2101", "level": "dismissal",
         "semester": "2021-2022-2"}]}
    page = get(cohort_ctx(**{"warnings.list": warnings}), "/ui/cohort").text
    assert page.index("杨建明") < page.index("林敏")
    assert 'class="badge level-dismissal">退学警示</span> 1' in page
    assert set(charts.LEVEL_COLOURS) == {"yellow", "orange", "red", "dismissal"}


def test_the_dashboard_chart_has_a_dismissal_bar():
    from services.assessment.domain.report import semester_report
    from tests.unit.assessment.test_semester_report_data import facts
    report = {**semester_report(facts()), "semesters_with_grades": ["2024-2025-2"]}
    report["warnings"]["levels"]["dismissal"] = 2
    page = get(FakeCtx(VICE_DEAN, answers={"report.semester": report}), "/ui/dashboard?semester=2024-2025-2").text
    chart = re.search(r'id="chart-levels">(.*?)</section>', page, re.S).group(1)
    assert "<title>本学期 2024-2025-2 退学警示: 2</title>" in chart and charts.LEVEL_COLOURS["dismissal"] in chart


# --- sign-in ------------------------------------------------------------------------------------------------------

def test_signing_in_records_the_address_the_gateway_worked_out_not_the_sockets():
    ctx = FakeCtx(users={"wang": ("right-password-1", HEAD)})
    post(ctx, "/login", {"username": "wang", "password": "right-password-1"},
         environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert ctx.signed_in_from == "192.0.2.10"
