"""Roster vocabulary (files.md "Roster"): statuses, roles, scopes and cohorts, to canonical values."""
from __future__ import annotations

import re

from shared.files.fields import CellError

STATUSES = ("enrolled", "suspended", "withdrawn", "graduated")
STATUS_ZH = {"enrolled": "在读", "suspended": "休学", "withdrawn": "退学", "graduated": "毕业"}
ROLES = ("head_teacher", "counselor", "department_head", "vice_dean", "deputy_secretary", "academic_affairs")
ROLE_ZH = {"head_teacher": "班主任", "counselor": "辅导员", "department_head": "系主任", "vice_dean": "教学副院长",
           "deputy_secretary": "学工副书记", "academic_affairs": "教务员"}


def _fold(text: str) -> str:
    """Case, spaces, underscores and hyphens do not matter in these words ("Head teacher" = head_teacher)."""
    return re.sub(r"[\s_\-]+", "", text.casefold())


_STATUS_WORDS = {_fold(w): code for code, zh in STATUS_ZH.items() for w in (zh, code)}
_STATUS_WORDS.update({_fold("在校"): "enrolled", _fold("已毕业"): "graduated", _fold("active"): "enrolled"})
_ROLE_WORDS = {_fold(w): code for code, zh in ROLE_ZH.items() for w in (zh, code)}
_ROLE_WORDS.update({_fold("counsellor"): "counselor", _fold("academic affairs officer"): "academic_affairs"})


def parse_status(text: str) -> str:
    code = _STATUS_WORDS.get(_fold(text))
    if code is None:
        raise CellError("未知的学籍状态，应为 在读、休学、退学 或 毕业",
                        "unknown status; use 在读 (enrolled), 休学 (suspended), 退学 (withdrawn) or 毕业 (graduated)")
    return code


def parse_role(text: str) -> str:
    code = _ROLE_WORDS.get(_fold(text))
    if code is None:
        zh = "、".join(ROLE_ZH.values())
        raise CellError(f"未知的角色，应为 {zh} 之一", f"unknown role; use one of: {zh} (or {', '.join(ROLES)})")
    return code


# Commas (the NFKC-cleaned full-width one included), 、, semicolons and spaces all separate scope items.
_SCOPE_SPLIT = re.compile(r"[,，、;；\s]+")


def parse_scope(text: str) -> list[str]:
    return list(dict.fromkeys(item for item in _SCOPE_SPLIT.split(text) if item))


_YEAR = re.compile(r"^(\d{4})\s*级?$")
FIRST_COHORT, LAST_COHORT = 1950, 2100


def parse_cohort(text: str) -> int:
    """The entry year, e.g. 2022 (also written 2022级)."""
    match = _YEAR.match(text)
    if not match or not FIRST_COHORT <= int(match[1]) <= LAST_COHORT:
        raise CellError("年级应为入学年份，如 2022", "the cohort must be an entry year, e.g. 2022")
    return int(match[1])
