"""The message catalogue is complete in both languages, and no page puts personal data in a URL."""
import re
from pathlib import Path

from services.gateway.web import i18n
from services.gateway.web.forms import RECORD_FORMS
from shared.academic.vocabulary import LEVELS

WEB = Path(i18n.__file__).parent
LITERAL_KEY = re.compile(r"""\bt\(\s*['"]([a-z_]+\.[a-z_]+(?:\.[a-z_]+)*)['"]""")
VIEW_KEY = re.compile(r"""['"]((?:error|login|tasks|trace|upload|ack|dashboard|nav|pending|whatif|history|lists)"""
                      r"""\.(?!html\b)[a-z_]+(?:\.[a-z_]+)?)['"]""")


def not_messages() -> set[str]:
    """Strings of the views that look like message keys but are API operations or permissions."""
    from services.gateway.domain.principal import ROLE_PERMISSIONS
    from services.gateway.routes import all_routes
    return {r.name for r in all_routes()} | {p for ps in ROLE_PERMISSIONS.values() for p in ps}


def used_keys() -> set[str]:
    keys = set()
    for path in (WEB / "templates").glob("*.html"):
        keys |= set(LITERAL_KEY.findall(path.read_text(encoding="utf-8")))
    for path in list(WEB.glob("*.py")) + list((WEB / "views").glob("*.py")):
        keys |= set(VIEW_KEY.findall(path.read_text(encoding="utf-8"))) - not_messages()
    # Keys built from a value (t('kind.' ~ task.kind), t.label('level', …)): every value the pages can meet.
    keys |= {f"kind.{kind}" for kind in RECORD_FORMS}
    keys |= {f"level.{level}" for level in ("none",) + LEVELS}
    keys |= {f"change_kind.{kind}" for kind in ("issued", "escalated", "downgraded", "lifted")}
    keys |= {f"lists.status.{s}" for s in ("unconfirmed", "confirmed", "replaced")}
    keys |= {f"history.{group}.{value}" for group, values in (
        ("source", ("warning", "list", "notice", "acknowledgement", "task")), ("status", ("active", "lifted")),
        ("part", ("warnings", "notices", "tasks"))) for value in values}
    keys |= {f"pending.saved.{s}" for s in ("confirmed", "excluded")}
    keys |= {f"tasks.status.{s}" for s in ("open", "submitted", "done", "unfinished", "all")}
    keys |= {f"trace.state.{s}" for s in ("settled", "running", "stuck")}
    keys |= {f"role.{r}" for r in ("academic_affairs", "vice_dean", "deputy_secretary", "department_head",
                                   "counselor", "head_teacher", "admin", "none")}
    keys |= {f"tasks.{s}_ok" for s in ("closed", "submitted", "reviewed")}
    keys |= {f"decision.{d}" for d in ("approve", "return")}
    keys |= {f"field.{f.name}" for fields in RECORD_FORMS.values() for f in fields}
    return keys


def test_every_message_a_page_uses_is_in_the_catalogue():
    missing = sorted(k for k in used_keys() if k not in i18n.MESSAGES)
    assert missing == []


def test_the_catalogue_holds_no_message_nobody_uses():
    # Labels of the college's values (a rule, a review status…) are shown whenever a service sends the value.
    labels = ("rule.", "review.", "channel.", "answer_kind.", "field.", "kind.", "level.", "notice.", "via.",
              "delivery.", "ack_status.", "recipient.", "release.", "history.action.")
    unused = sorted(k for k in i18n.MESSAGES if k not in used_keys() and not k.startswith(labels))
    assert unused == []


def test_every_message_has_both_languages_and_the_same_placeholders():
    for key, (zh, en) in i18n.MESSAGES.items():
        assert zh.strip() and en.strip(), key
        assert sorted(re.findall(r"{(\w+)}", zh)) == sorted(re.findall(r"{(\w+)}", en)), key


def test_an_unknown_value_shows_as_itself_rather_than_breaking_the_page():
    t = i18n.Translator("en")
    assert t.label("kind", "a_new_duty") == "a_new_duty" and t.label("kind", "talk") == "One-to-one talk"
    assert i18n.Translator("fr").lang == "zh"


# --- no personal data in URLs -------------------------------------------------------------------------------

def test_links_and_forms_carry_only_opaque_ids():
    """Every page of the unit tests' fixtures rendered; no href/action/src may hold a student id, a name, a phone
    or an e-mail (they go in POST bodies); task, upload and token ids are opaque."""
    from tests.unit.gateway_web import test_overview_pages as overview, test_review_pages as review
    from tests.unit.gateway_web import test_task_pages as task_pages
    from tests.unit.gateway_web.fakes import FakeCtx, get, post
    from services.assessment.domain.report import semester_report
    from tests.unit.assessment.test_semester_report_data import facts

    report = {**semester_report(facts()), "semesters_with_grades": ["2024-2025-2"]}
    warnings = {"warnings": [{"student_id": "210101001", "name": "杨建明", "class_name": "机械2101", "level": "red",
                              "semester": "2021-2022-1"}]}
    pages = [
        (FakeCtx(task_pages.HEAD, answers={"tasks.list": {"tasks": [task_pages.task()]}, "warnings.list": warnings}),
         "/ui/tasks"),
        (FakeCtx(task_pages.HEAD, answers={"tasks.show": task_pages.task(), "warnings.list": warnings}),
         "/ui/tasks/TK-1"),
        (FakeCtx(overview.COUNSELOR, answers={"warnings.list": warnings, "tasks.list": {"tasks": [task_pages.task()]},
                                              **overview.lists_answers([review.a_list()])}), "/ui/cohort"),
        (review.pending_ctx(), "/ui/pending"),
        (FakeCtx(review.AFFAIRS, answers={"warnings.history": review.HISTORY}), ("/ui/history", "210101001")),
        (FakeCtx(review.AFFAIRS, answers={"policy.what_if": review.whatif_answer()}), ("/ui/whatif", None)),
        (FakeCtx(overview.VICE_DEAN, answers={"report.semester": report}), "/ui/dashboard"),
        (FakeCtx(None, answers={"acknowledgement.open": overview.ACK}), "/ack/tok-abcdefgh"),
    ]
    personal = ("210101001", "杨建明", "杨*明", "@", "138", "宋华英")
    for ctx, path in pages:
        if isinstance(path, tuple):       # a page shown after a form: the student id or the policy posted
            path, student_id = path
            form = {"student_id": student_id} if student_id else {"policy_text": "version: x"}
            html = post(ctx, path, form).text
        else:
            html = get(ctx, path).text
        urls = re.findall(r'(?:href|action|src)="([^"]*)"', html)
        assert urls, path
        for url in urls:
            assert not any(p in url for p in personal), (path, url)
