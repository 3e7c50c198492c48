"""Canonical codes for exam and course types, with the Chinese words files use (files.md)."""

EXAM_TYPES = ("regular", "makeup", "retake", "deferred")
COURSE_TYPES = ("required", "restricted", "elective")

EXAM_TYPE_ZH = {"regular": "正常考试", "makeup": "补考", "retake": "重修", "deferred": "缓考"}
COURSE_TYPE_ZH = {"required": "必修", "restricted": "限选", "elective": "选修"}

# Regular-exam sittings (policy.md §3, kpis.md): a deferred exam replaces the regular one.
REGULAR_SITTINGS = frozenset({"regular", "deferred"})
# Course types whose credits count toward warning credits (policy.md §1).
WARNING_COURSE_TYPES = frozenset({"required", "restricted"})

# Warning levels, lowest first. "dismissal" (退学警示, dismissal risk) sits above red: only the escalation-chain
# rules give it (warned in consecutive or cumulative semesters); ordinary escalation stops at red.
LEVELS = ("yellow", "orange", "red", "dismissal")
LEVEL_ZH = {"yellow": "黄色", "orange": "橙色", "red": "红色", "dismissal": "退学警示"}
# What a level is called in a sentence: "黄色预警" … "退学警示" (not "退学警示预警").
LEVEL_TITLE_ZH = {"yellow": "黄色预警", "orange": "橙色预警", "red": "红色预警", "dismissal": "退学警示"}
# The highest level a threshold rule or ordinary escalation gives.
TOP_ORDINARY_LEVEL = "red"


def level_rank(level: str | None) -> int:
    return 0 if level in (None, "none") else LEVELS.index(level) + 1
