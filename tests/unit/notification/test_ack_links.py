"""Acknowledgement links: signed, expiring, URL-safe, short, without personal data; anything altered is refused."""
import re
from datetime import datetime, timedelta, timezone

import pytest

from services.notification.channels.sms import fit, segments
from services.notification.domain.ack_links import (
    LinkExpired, LinkInvalid, LinkSigner, hide_tokens, tokens_in,
)

NOW = datetime(2024, 3, 5, 2, 0, tzinfo=timezone.utc)
EXPIRES = NOW + timedelta(days=14)
SIGNER = LinkSigner("a-long-random-secret", "https://aq.college.example.edu.cn/")


def test_a_link_names_the_notice_role_and_expiry_and_nothing_else():
    url = SIGNER.url("N-0123456789abcdef", "guardian", EXPIRES)
    assert url.startswith("https://aq.college.example.edu.cn/ack/N-0123456789abcdef.g.")   # one slash, no double
    token = url.rsplit("/", 1)[1]
    assert re.fullmatch(r"[A-Za-z0-9._-]+", token)                   # URL-safe as is, nothing to escape
    assert len(token) <= 52 and len(url) <= 90                        # fits an SMS next to the words
    claim = SIGNER.verify(token, NOW)
    assert (claim.notice_id, claim.role, claim.expires_at) == ("N-0123456789abcdef", "guardian", EXPIRES)


def test_the_student_link_and_the_guardian_link_of_one_notice_differ():
    student = SIGNER.token("N-0123456789abcdef", "student", EXPIRES)
    guardian = SIGNER.token("N-0123456789abcdef", "guardian", EXPIRES)
    assert student != guardian
    assert SIGNER.verify(student, NOW).role == "student" and SIGNER.verify(guardian, NOW).role == "guardian"


@pytest.mark.parametrize("alter", [
    lambda t: t.replace(".g.", ".s."),                                           # claim to be the student's
    lambda t: t.replace("N-0123456789abcdef", "N-0123456789abcdee"),             # another notice
    lambda t: ".".join(t.split(".")[:2] + ["zzzzzz"] + t.split(".")[3:]),        # a later expiry
    lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),                           # the signature
    lambda t: t + "x",
    lambda t: t.split(".", 1)[1],
    lambda t: "",
])
def test_an_altered_link_is_refused(alter):
    token = SIGNER.token("N-0123456789abcdef", "guardian", EXPIRES)
    with pytest.raises(LinkInvalid):
        SIGNER.verify(alter(token), NOW)


def test_a_link_signed_with_another_key_is_refused():
    token = LinkSigner("another-secret", "http://x").token("N-0123456789abcdef", "student", EXPIRES)
    with pytest.raises(LinkInvalid, match="signature"):
        SIGNER.verify(token, NOW)


def test_a_link_expires_at_its_expiry_but_can_still_be_read():
    token = SIGNER.token("N-0123456789abcdef", "student", EXPIRES)
    assert SIGNER.verify(token, EXPIRES - timedelta(seconds=1))
    with pytest.raises(LinkExpired) as caught:
        SIGNER.verify(token, EXPIRES)
    assert caught.value.code == "expired" and caught.value.claim.notice_id == "N-0123456789abcdef"
    assert SIGNER.read(token).role == "student"        # genuine, so a late use can still be recorded


def test_not_a_string_is_invalid_not_a_crash():
    for token in (None, 42, {"token": "x"}):
        with pytest.raises(LinkInvalid):
            SIGNER.read(token)


def test_bad_inputs_to_signing_name_what_is_wrong():
    with pytest.raises(ValueError, match="staff|student, guardian"):
        SIGNER.token("N-0123456789abcdef", "head_teacher", EXPIRES)
    with pytest.raises(ValueError, match="notice id"):
        SIGNER.token("210301001", "student", EXPIRES)
    with pytest.raises(ValueError, match="AQ_LINK_SECRET"):
        LinkSigner("", "http://x")


def test_relink_re_signs_only_the_old_notices_genuine_links():
    old = SIGNER.url("N-00000000000000aa", "guardian", EXPIRES)
    other = SIGNER.url("N-00000000000000bb", "guardian", EXPIRES)
    forged = old[:-2] + "zz"
    text = f"请打开 {old} 确认。另一份 {other}；伪造 {forged}"
    moved = SIGNER.relink(text, "N-00000000000000aa", "N-00000000000000cc")
    [new, kept_other, kept_forged] = tokens_in(moved)
    claim = SIGNER.verify(new, NOW)
    assert (claim.notice_id, claim.role, claim.expires_at) == ("N-00000000000000cc", "guardian", EXPIRES)
    assert kept_other == other.rsplit("/", 1)[1] and kept_forged == forged.rsplit("/", 1)[1]
    assert moved.startswith("请打开 https://aq.college.example.edu.cn/ack/N-00000000000000cc.g.")


def test_staff_views_show_that_a_link_was_sent_but_not_a_usable_link():
    url = SIGNER.url("N-0123456789abcdef", "guardian", EXPIRES)
    hidden = hide_tokens(f'<a href="{url}">{url}</a>')
    assert "N-0123456789abcdef.g." in hidden and url.rsplit(".", 1)[1] not in hidden
    assert tokens_in(hidden) == []


def test_an_sms_cut_to_its_segments_keeps_the_link_whole():
    url = SIGNER.url("N-0123456789abcdef", "guardian", EXPIRES)
    words = "家长您好：您的孩子欧阳明月同学学业已达到红色预警，原因很多很多" * 4
    text = f"{words}请打开链接签字回执：{url} 班主任将在7天内与您联系。"
    cut = fit(text, 3, signature="【某某学院】")
    assert cut.endswith(url) and "…" in cut
    assert segments("【某某学院】" + cut) == 3
    short = f"请打开链接签字回执：{url} 班主任将在7天内与您联系。" + "详情" * 80
    assert url in fit(short, 3)                        # a link early in the text is kept by the ordinary cut
