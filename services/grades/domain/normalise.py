"""The words grade files use, resolved to canonical values once, here (architecture.md "Shared vocabulary").

Each ``parse_*`` takes a cleaned cell (NFKC, stripped, non-empty) and returns the canonical value or raises
CellError. The repetitive columns are memoised: a file of 100,000 rows has a handful of distinct semesters.
"""
from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from shared.academic.scores import KNOWN_WORDS, ScoreError, normalise_score
from shared.academic.semesters import Semester, SemesterError
from shared.files.fields import CellError

_DIGIT = {"一": 1, "二": 2, "三": 3, "1": 1, "2": 2, "3": 3}
# 2023-2024-1, 2023-2024学年第1学期, 2023-2024-第一学期, 2023-2024学年第一学期, 2023—2024 第1学期 ...
_SEMESTER_LONG = re.compile(r"^(\d{4})\s*[-–—~至]\s*(\d{4})\s*(?:学年)?\s*[-–—]?\s*(?:第\s*)?([123一二三])\s*(?:学期)?$")
# 202301 = 2023-2024-1, 202302 = 2023-2024-2 (files.md), 202303 = the summer term
_SEMESTER_SHORT = re.compile(r"^(\d{4})0([123])$")

_SEMESTER_ERROR = ("不是可识别的学年学期，应写作 2023-2024-1、2023-2024学年第1学期、2023-2024-第一学期 或 202301",
                   "not a recognisable semester; write it as 2023-2024-1, 2023-2024学年第1学期, 2023-2024-第一学期 "
                   "or 202301")


@lru_cache(maxsize=512)
def parse_semester(text: str) -> str:
    if match := _SEMESTER_LONG.match(text):
        code = f"{match[1]}-{match[2]}-{_DIGIT[match[3]]}"
    elif match := _SEMESTER_SHORT.match(text):
        start = int(match[1])
        code = f"{start}-{start + 1}-{match[2]}"
    else:
        raise CellError(*_SEMESTER_ERROR)
    try:
        return Semester.parse(code).code
    except SemesterError:
        raise CellError("学年的两个年份必须相邻（如 2023-2024）",
                        "the academic year must span two consecutive years (e.g. 2023-2024)") from None


def _words(table: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {word.casefold(): code for code, words in table.items() for word in words}


_COURSE_TYPES = _words({
    "required": ("必修", "必修课", "required"),
    "restricted": ("限选", "限选课", "限制性选修", "限制性选修课", "restricted", "restricted elective"),
    "elective": ("选修", "选修课", "公选", "公选课", "任选", "任选课", "elective"),
})


@lru_cache(maxsize=256)
def parse_course_type(text: str) -> str:
    code = _COURSE_TYPES.get(" ".join(text.casefold().split()))
    if code is None:
        raise CellError("未知的课程性质，应为 必修、限选、选修 或 公选",
                        "unknown course type; use 必修 (required), 限选 (restricted), 选修 or 公选 (elective)")
    return code


_EXAM_TYPES = _words({
    "regular": ("正常考试", "正常", "初修", "正考", "regular", "normal"),
    "makeup": ("补考", "makeup", "make-up", "make up"),
    "retake": ("重修", "retake"),
    "deferred": ("缓考", "deferred"),
})
_NUMERAL = "[0-9一二三四五六七八九十]+"
# 补考一 / 补考二 / 补考2; 第1次重修 / 第二次重修 / 重修1; 补考考试, 重修考试
_EXAM_NUMBERED = re.compile(rf"^(?:第{_NUMERAL}次)?(补考|重修|缓考)(?:{_NUMERAL}|考试)?$")


@lru_cache(maxsize=256)
def parse_exam_type(text: str) -> str:
    folded = " ".join(text.casefold().split())
    code = _EXAM_TYPES.get(folded)
    if code is None and (match := _EXAM_NUMBERED.match(folded.replace(" ", ""))):
        code = _EXAM_TYPES[match[1]]
    if code is None:
        raise CellError("未知的考试性质，应为 正常考试、补考、重修 或 缓考",
                        "unknown exam type; use 正常考试 (regular), 补考 (make-up), 重修 (retake) or 缓考 (deferred)")
    return code


_TENTH = Decimal("0.1")


@lru_cache(maxsize=256)
def parse_credits(text: str) -> float:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise CellError("学分必须是数字", "credits must be a number") from None
    if not value.is_finite() or value < Decimal("0.5") or value > 20:
        raise CellError("学分必须在 0.5 到 20 之间", "credits must be between 0.5 and 20")
    if value != value.quantize(_TENTH):
        raise CellError("学分最多保留一位小数", "credits may have at most one decimal place")
    return float(value)


@lru_cache(maxsize=1024)
def parse_score(text: str) -> str:
    """Policy.md §1: a number 0–100 (canonical text: ``70.0`` -> ``70``) or one of the listed words."""
    try:
        return normalise_score(text)
    except ScoreError:
        pass
    words = "、".join(KNOWN_WORDS)
    try:
        Decimal(text)
    except InvalidOperation:
        raise CellError(f"无法识别的成绩，应为 0–100 的数字或以下之一：{words}（也可留空）",
                        f"unrecognised score; use a number from 0 to 100 or one of: {words} (or leave it empty)"
                        ) from None
    raise CellError("成绩必须在 0 到 100 之间", "a numeric score must be between 0 and 100")


_NAME_NOISE = re.compile(r"\s+")
_NAME_DOTS = str.maketrans({"•": "·", "・": "·", "．": "·", ".": "·", "‧": "·", "∙": "·"})


def same_name(a: str, b: str) -> bool:
    """Names match ignoring spaces and the variants of the middle dot in transliterated names (e.g. 买买提·艾力)."""
    return _name_key(a) == _name_key(b)


@lru_cache(maxsize=65536)
def _name_key(name: str) -> str:
    return _NAME_NOISE.sub("", unicodedata.normalize("NFKC", name)).translate(_NAME_DOTS).casefold()
