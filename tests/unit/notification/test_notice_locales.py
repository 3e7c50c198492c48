"""English next to Chinese, the SMS form of each notice, and `aq notices preview`."""
import re

import pytest
from click.testing import CliRunner

from aq_cli.commands.notices import notices
from services.notification.channels.sms import segments
from services.notification.domain.examples import KINDS, example
from services.notification.domain.recipients import People, notices_for_warning_change
from services.notification.domain.rendering import check_locale, normalise_locale, render

PEOPLE = People(student_id="210301001", student_name="Zhang San", class_name="ME2101", major="Mechanical Engineering",
                head_teacher_id="T1001", counselor_id="C2021", department_head_id="D0301", vice_dean_id="V0001")
OTHER = People(student_id="210301007", student_name="Li Si", class_name="ME2102", major="Mechanical Engineering",
               head_teacher_id="T1002", counselor_id="C2021", department_head_id="D0301", vice_dean_id="V0001")
REASON = {"rule": "unresolved_failed_credits", "level": "red", "measure": 26.0, "threshold": 25.0, "comparison": ">=",
          "courses": [{"course_code": "MATH01", "course_name": "Calculus", "credits": 5.0, "result": "45"}]}
CJK = re.compile(r"[\u4e00-\u9fff]")


def change(kind="issued", old="none", new="red", student_id="210301001"):
    return {"change_id": f"chg-{student_id}", "student_id": student_id, "semester": "2023-2024-1", "kind": kind,
            "old_level": old, "new_level": new, "escalated": False,
            "reasons": [] if new == "none" else [{**REASON, "level": new}], "policy_version": "1"}


CASES = [("issued", "none", "yellow"), ("issued", "none", "red"), ("escalated", "yellow", "orange"),
         ("downgraded", "red", "yellow"), ("lifted", "orange", "none")]


@pytest.mark.parametrize("kind,old,new", CASES)
def test_every_warning_notice_renders_in_english_saying_why_and_what_next(kind, old, new):
    for spec in notices_for_warning_change(change(kind, old, new), PEOPLE):
        rendered = render(spec, "en")
        for part in (rendered.subject, rendered.text, rendered.html, rendered.short):
            assert not CJK.search(part), (spec.recipient_kind, part)
        assert 'lang="en"' in rendered.html
        if new != "none":
            assert "Why:" in rendered.text and "Failed credits not yet made up: 26 credits" in rendered.text
            assert "MATH01 Calculus, 5 credits, result: 45" in rendered.text
        if not (kind == "lifted" and spec.recipient_kind in ("student", "guardian")):
            assert "What happens next" in rendered.text


def test_formal_notice_in_english_asks_for_acknowledgement():
    spec = next(s for s in notices_for_warning_change(change(), PEOPLE) if s.requires_acknowledgement)
    rendered = render(spec, "en")
    assert rendered.subject.startswith("Formal academic warning notice: Zhang San (red warning")
    assert "Acknowledgement" in rendered.text and "within 7 days" in rendered.text


@pytest.mark.parametrize("locale", ["zh", "en"])
@pytest.mark.parametrize("kind,old,new", CASES)
def test_the_sms_form_is_short_and_still_says_why_and_what_next(locale, kind, old, new):
    for spec in notices_for_warning_change(change(kind, old, new), PEOPLE):
        short = render(spec, locale).short
        assert "\n" not in short and segments(short) <= 3
        if spec.recipient_kind in ("student", "guardian") and new != "none":
            assert "26" in short                                    # why: the measure
            assert ("7" in short or "14" in short or "仍处于" in short or "still" in short.lower())   # what next


def test_guardian_sms_carries_only_their_own_students_data():
    render(notices_for_warning_change(change(student_id="210301007"), OTHER)[1], "zh")
    [guardian] = [s for s in notices_for_warning_change(change(), PEOPLE) if s.recipient_kind == "guardian"]
    for locale in ("zh", "en"):
        rendered = render(guardian, locale)
        for part in (rendered.short, rendered.text, rendered.subject):
            assert "210301007" not in part and "Li Si" not in part and "ME2102" not in part
            assert "210301001" in part or "Zhang San" in part


def test_locales():
    assert normalise_locale("en-US") == "en" and normalise_locale("zh_CN") == "zh" and normalise_locale(None) == "zh"
    assert check_locale("EN") == "en"
    with pytest.raises(ValueError, match="fr"):
        check_locale("fr")


@pytest.mark.parametrize("locale", ["zh", "en"])
@pytest.mark.parametrize("kind", KINDS)
def test_preview_renders_an_example_of_every_kind(kind, locale):
    result = CliRunner().invoke(notices, ["preview", kind, "--locale", locale])
    assert result.exit_code == 0, result.output
    spec = example(kind)
    assert spec.kind == kind or (kind == "warning_formal" and spec.requires_acknowledgement)
    assert render(spec, locale).subject in result.output
    assert "SMS (" in result.output
    html = CliRunner().invoke(notices, ["preview", kind, "--locale", locale, "--html"])
    assert html.output.count("<!DOCTYPE html>") == 1


def test_preview_refuses_what_does_not_exist():
    assert CliRunner().invoke(notices, ["preview", "warning_sent_by_pigeon"]).exit_code != 0
    result = CliRunner().invoke(notices, ["preview", "warning_issued", "--recipient", "department_head"])
    assert result.exit_code != 0 and "student, guardian" in result.output
    assert CliRunner().invoke(notices, ["preview", "warning_issued", "--locale", "fr"]).exit_code != 0
