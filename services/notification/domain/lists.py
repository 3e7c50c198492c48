"""Counselor lists (advising.counselor_list_issued; docs/duties.md "Counselor lists"): one notice per recipient,
carrying only the students that recipient is responsible for — the counselor the whole cohort, a head teacher the
students of their class, a department head those of their major (advising decides who sees whom: ``student_ids``).
"""
from __future__ import annotations

from typing import Any, Mapping

from services.notification.domain.recipients import NoticeSpec

COUNSELOR_LIST = "counselor_list"      # notice kind and template


def list_cause(data: Mapping[str, Any]) -> str:
    return f"{COUNSELOR_LIST}:{data['list_id']}"


def notices_for_counselor_list(data: Mapping[str, Any]) -> list[NoticeSpec]:
    entries = {e["student_id"]: e for e in data["entries"]}
    specs = []
    for recipient in data["recipients"]:
        mine = [entries[sid] for sid in recipient["student_ids"] if sid in entries]
        context = {
            "audience": recipient["role"], "covering_for": recipient.get("covering_for"),
            "scope": list(recipient["scope"]), "entries": mine,
            "list_id": data["list_id"], "semester": data["semester"], "cohort": data["cohort"],
            "version": data["version"], "previous_version": data["previous_version"],
            "students": data["students"], "added": len(data["added"]), "removed": len(data["removed"]),
            "confirmer": data["confirmer"], "confirm_due": data["confirm_due"],
            "confirms": recipient["staff_id"] == data["confirmer"],
        }
        specs.append(NoticeSpec(kind=COUNSELOR_LIST, recipient_kind=recipient["role"],
                                recipient_id=recipient["staff_id"], cause=list_cause(data),
                                template=COUNSELOR_LIST, context=context))
    return specs
