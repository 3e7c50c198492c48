"""The policy's review section: review before release is on unless a college switches it off."""
import re

import pytest

from services.warnings.domain.policy import Policy, PolicyError, load_default_policy

RULES = {"gpa": {"thresholds": {"yellow": 2.0}}}


def test_review_is_required_unless_switched_off():
    assert load_default_policy().review_required is True
    assert Policy.from_dict({"version": "v", "rules": RULES}).review_required is True
    off = Policy.from_dict({"version": "v", "rules": RULES, "review": {"required": False}})
    assert (off.review_required, off.objection_window_hours) == (False, 0.0)


def test_an_objection_window_is_read_in_hours():
    policy = Policy.from_dict({"version": "v", "rules": RULES, "review": {"objection_window_hours": 48}})
    assert (policy.review_required, policy.objection_window_hours) == (True, 48.0)


@pytest.mark.parametrize("review, message", [
    ("yes", "review must be a mapping"),
    ({"required": "yes"}, "review.required must be true or false"),
    ({"objection_window_hours": -1}, "review.objection_window_hours must be a number ≥ 0"),
    ({"objection_window_hours": True}, "review.objection_window_hours must be a number ≥ 0"),
    ({"window": 3}, "review: unknown key(s) window"),
])
def test_a_bad_review_section_says_what_is_wrong(review, message):
    with pytest.raises(PolicyError, match=re.escape(message)):
        Policy.from_dict({"version": "v", "rules": RULES, "review": review})
