"""A warning list waiting for review (warnings.release_pending; docs/warnings.md "Review and release").

Nothing reaches students, parents or staff until academic affairs confirm the list, so the people who must
confirm it are told it is there — every academic-affairs officer in the roster, or the vice dean when the college
has none (someone must be able to act, or the cascade would wait unseen).
"""
from __future__ import annotations

from typing import Any, Mapping

from services.notification.domain.recipients import STAFF, NoticeSpec

REVIEW_PENDING = "review_pending"      # notice kind and template


def review_cause(data: Mapping[str, Any]) -> str:
    return f"{REVIEW_PENDING}:{data['batch_id']}"


def reviewers(officers: Mapping[str, Any]) -> list[str]:
    staff = list(officers.get("academic_affairs") or [])
    if not staff and officers.get("vice_dean_id"):
        staff = [officers["vice_dean_id"]]
    return staff


def notices_for_release_pending(data: Mapping[str, Any], officers: Mapping[str, Any]) -> list[NoticeSpec]:
    context = {key: data[key] for key in ("batch_id", "source", "policy_version", "changes", "semesters",
                                          "objection_window_hours")}
    return [NoticeSpec(kind=REVIEW_PENDING, recipient_kind=STAFF, recipient_id=staff_id, cause=review_cause(data),
                       template=REVIEW_PENDING, context=context) for staff_id in reviewers(officers)]
