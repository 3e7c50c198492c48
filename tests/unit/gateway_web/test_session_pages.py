"""Signing in and out, where each role lands, navigation by role, CSRF on every form, and the headers every page
carries."""
import pytest

from services.gateway.web.app import PAGES, URLS
from tests.unit.gateway_web.fakes import FakeCtx, everyone, get, post, principal

HEAD = principal("head_teacher", "T1001", "王老师", classes=("机械2101",))
AFFAIRS = principal("academic_affairs", "A0001", "教务员甲")


def test_a_visitor_is_sent_to_sign_in_and_comes_back_after():
    response = get(FakeCtx(), "/ui/tasks?status=open")
    assert response.status_code == 303
    assert response.headers["Location"] == "/login?why=required&next=%2Fui%2Ftasks%3Fstatus%3Dopen"
    page = get(FakeCtx(), "/login?why=required&next=/ui/tasks")
    assert "请先登录" in page.text and 'name="next" value="/ui/tasks"' in page.text


def test_signing_in_goes_to_the_page_asked_for():
    ctx = FakeCtx(users={"wang": ("right-password-1", HEAD)})
    response = post(ctx, "/login", {"username": "wang", "password": "right-password-1", "next": "/ui/tasks"})
    assert response.status_code == 303 and response.headers["Location"] == "/ui/tasks"
    assert ctx.principal is HEAD


def test_a_wrong_password_says_so_without_saying_which_part_was_wrong():
    ctx = FakeCtx(users={"wang": ("right-password-1", HEAD)})
    for username in ("wang", "nobody"):
        response = post(ctx, "/login", {"username": username, "password": "nope"})
        assert response.status_code == 401
        assert "用户名或密码不正确" in response.text
    assert ctx.principal is None


def test_a_locked_account_is_told_to_wait():
    ctx = FakeCtx()
    ctx.sign_in = lambda *a: "locked out until 2026-01-01T10:15:00+00:00"
    response = post(ctx, "/login", {"username": "wang", "password": "x"}, headers={})
    assert "尝试次数过多" in response.text


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example"])
def test_sign_in_never_sends_the_browser_to_another_site(target):
    ctx = FakeCtx(users={"wang": ("right-password-1", HEAD)})
    response = post(ctx, "/login", {"username": "wang", "password": "right-password-1", "next": target})
    assert response.headers["Location"] == "/"


def test_sign_out_is_a_form_with_the_csrf_token():
    ctx = FakeCtx(HEAD)
    assert post(ctx, "/logout", csrf=False).status_code == 400 and not ctx.signed_out
    response = post(ctx, "/logout")
    assert response.status_code == 303 and response.headers["Location"] == "/login?why=bye" and ctx.signed_out


@pytest.mark.parametrize("role, landing", [("academic_affairs", "/ui/upload"), ("vice_dean", "/ui/dashboard"),
                                           ("department_head", "/ui/courses"), ("counselor", "/ui/cohort"),
                                           ("head_teacher", "/ui/tasks")])
def test_each_role_starts_on_its_own_page(role, landing):
    response = get(FakeCtx(principal(role)), "/")
    assert response.status_code == 303 and response.headers["Location"] == landing


def test_the_gateways_admin_is_told_where_their_work_is():
    page = get(FakeCtx(principal("admin", "ADM")), "/")
    assert page.status_code == 200 and "aq 命令或 API" in page.text


def test_navigation_shows_only_what_the_role_may_use():
    page = get(FakeCtx(HEAD, answers={"tasks.list": {"tasks": []}}), "/ui/tasks").text
    assert 'href="/ui/tasks"' in page and 'aria-current="page"' in page
    assert 'href="/ui/upload"' not in page and 'href="/ui/dashboard"' not in page
    page = get(FakeCtx(AFFAIRS), "/ui/upload").text
    assert 'href="/ui/upload"' in page and 'href="/ui/trace"' in page


def test_a_page_not_for_the_role_is_refused_before_anything_is_asked():
    ctx = FakeCtx(HEAD)
    response = post(ctx, "/ui/upload", {"file": (b"x", "g.csv")}, content_type="multipart/form-data")
    assert response.status_code == 403 and "无权" in response.text
    assert ctx.calls == []


def test_every_form_is_refused_without_the_csrf_token():
    ctx = FakeCtx(everyone())
    posting = sorted({rule.rule for rule in URLS.iter_rules() if "POST" in (rule.methods or ())})
    assert posting, "no form at all?"
    for path in posting:
        concrete = path.replace("<upload_id>", "U1").replace("<task_id>", "T1").replace("<token>", "tok-12345678")
        if PAGES[next(r.endpoint for r in URLS.iter_rules() if r.rule == path)].permission == "ack":
            continue     # an acknowledgement link's token is its own credential (no cookie, no CSRF)
        response = post(ctx, concrete, {"x": "1"}, csrf=False)
        assert response.status_code == 400, path
        assert "表单已过期" in response.text
    assert ctx.calls == []


def test_pages_are_not_cached_and_run_no_inline_script():
    response = get(FakeCtx(AFFAIRS), "/ui/upload")
    assert response.headers["Cache-Control"] == "no-store"
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert "<script" not in response.text and 'style="' not in response.text


def test_english_on_request_and_a_link_back_to_chinese():
    page = get(FakeCtx(AFFAIRS, lang="en"), "/ui/upload").text
    assert "Upload grades" in page and '<html lang="en">' in page
    assert 'href="/ui/upload?lang=zh"' in page and "中文" in page


def test_static_files_and_the_chinese_font():
    ctx = FakeCtx()
    css = get(ctx, "/ui/static/style.css")
    assert css.status_code == 200 and css.headers["Content-Type"].startswith("text/css")
    assert get(ctx, "/ui/static/../app.py").status_code == 404
    font = get(ctx, "/ui/static/cjk-font")
    assert font.status_code == 200 and font.data[:4] in (b"OTTO", b"\x00\x01\x00\x00", b"ttcf")


def test_an_unknown_page_is_a_page_not_a_stack_trace():
    response = get(FakeCtx(HEAD), "/ui/nowhere")
    assert response.status_code == 404 and "没有找到" in response.text
