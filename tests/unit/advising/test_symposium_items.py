"""duties.md: mid-term symposium feedback is routed, answered and tracked until adopted or explained."""
from datetime import date

import pytest

from services.advising.domain import symposium
from services.advising.domain.records import ValidationError


def test_an_item_goes_from_raised_to_adopted_or_explained():
    status = symposium.route(symposium.RAISED)
    status = symposium.answer(status, "D机械", "D机械")
    assert symposium.close(status, "adopted") == "adopted"
    assert symposium.close(symposium.ANSWERED, "explained") == "explained"


def test_an_open_item_can_be_routed_again_a_closed_one_cannot():
    assert symposium.route(symposium.ANSWERED) == symposium.ROUTED
    with pytest.raises(symposium.SymposiumRefused):
        symposium.route(symposium.ADOPTED)


@pytest.mark.parametrize("status, assignee, by", [(symposium.RAISED, None, "D机械"),
                                                  (symposium.ROUTED, "D机械", "D电气")])
def test_only_the_person_routed_to_answers_a_routed_item(status, assignee, by):
    with pytest.raises(symposium.SymposiumRefused):
        symposium.answer(status, assignee, by)


@pytest.mark.parametrize("status, outcome", [(symposium.ROUTED, "adopted"), (symposium.ANSWERED, "ignored")])
def test_only_an_answered_item_is_closed_and_only_as_adopted_or_explained(status, outcome):
    with pytest.raises(symposium.SymposiumRefused):
        symposium.close(status, outcome)


def test_an_item_needs_topic_raiser_and_date():
    item = symposium.check_item({"semester": "2024-2025-1", "topic": "实验课时不足", "raised_by": "机械2401 班长",
                                 "raised_on": "2024-11-06", "course_code": "AQ01"})
    assert item["raised_on"] == date(2024, 11, 6) and item["teacher"] is None
    with pytest.raises(ValidationError):
        symposium.check_item({"semester": "2024-2025-1", "topic": "", "raised_by": "x", "raised_on": "2024-11-06"})


def test_age_counts_days_open():
    assert symposium.age_days(date(2024, 11, 6), date(2024, 11, 20)) == 14
    assert symposium.age_days(date(2024, 11, 6), date(2024, 11, 1)) == 0
