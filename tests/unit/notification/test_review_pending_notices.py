"""A warning list waiting for review (warnings.release_pending) is told to the academic-affairs officers who must
confirm it — or to the vice dean when the college has none — in Chinese or English."""
from contracts.events import ReleasePendingSchema
from services.notification.domain.rendering import render
from services.notification.domain.review import notices_for_release_pending

PENDING = {"batch_id": 7, "source": "upload", "policy_version": "default-1", "changes": 12,
           "semesters": ["2023-2024-1"], "objection_window_hours": 48.0}
OFFICERS = {"academic_affairs": ["A0001", "A0002"], "vice_dean_id": "V0001"}


def test_the_event_validates_against_its_contract():
    assert ReleasePendingSchema().validate(PENDING) == {}


def test_every_academic_affairs_officer_is_told_once_per_list():
    specs = notices_for_release_pending(PENDING, OFFICERS)
    assert [(s.recipient_id, s.recipient_kind, s.cause) for s in specs] == [
        ("A0001", "staff", "review_pending:7"), ("A0002", "staff", "review_pending:7")]
    text = render(specs[0])
    assert "第 7 批" in text.subject and "12 项变化" in text.subject
    assert "aq warnings confirm 7" in text.text and "48 小时异议期" in text.text and "2023" in text.text
    assert "<strong>12</strong>" in text.html


def test_the_vice_dean_is_told_when_the_college_has_no_academic_affairs_officer():
    specs = notices_for_release_pending(PENDING, {"academic_affairs": [], "vice_dean_id": "V0001"})
    assert [s.recipient_id for s in specs] == ["V0001"]
    assert notices_for_release_pending(PENDING, {"academic_affairs": [], "vice_dean_id": None}) == []


def test_a_policy_installation_reads_in_english_without_a_window():
    data = {**PENDING, "source": "policy", "policy_version": "default-2", "objection_window_hours": 0.0}
    english = render(notices_for_release_pending(data, OFFICERS)[0], "en")
    assert english.subject.startswith("[Review needed]") and "version default-2" in english.text
    assert "objection window" not in english.text
