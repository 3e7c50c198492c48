"""How a raw score is read (policy.md §1). One reading for every service.

``read_score`` turns the raw text of a grade record into a :class:`Result`. ``kind`` says what the text was:
``number``, ``grade`` (优秀…不及格), ``pass_fail`` (合格/不合格), ``absent``, ``cheating``, ``exempt`` or ``pending``
(no result yet: 缓考, 取消, empty). Pending results are kept but ignored by every rule.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache


class ScoreError(ValueError):
    """The text is not a score of policy.md §1 (a number outside 0–100 or unknown text)."""


@dataclass(frozen=True)
class Result:
    kind: str
    passed: bool | None      # None = no result yet
    numeric: float | None    # None = excluded from GPA (or no result)

    @property
    def has_result(self) -> bool:
        return self.passed is not None

    @property
    def is_fail(self) -> bool:
        return self.passed is False


GRADE_WORDS = {"优秀": 95.0, "良好": 85.0, "中等": 75.0, "及格": 65.0}
_FIXED = {
    "不及格": Result("grade", False, 0.0),
    "合格": Result("pass_fail", True, None),
    "不合格": Result("pass_fail", False, None),
    "缺考": Result("absent", False, 0.0),
    "旷考": Result("absent", False, 0.0),
    "作弊": Result("cheating", False, 0.0),
    "免修": Result("exempt", True, None),
    "缓考": Result("pending", None, None),
    "取消": Result("pending", None, None),
    "": Result("pending", None, None),
}
KNOWN_WORDS = tuple(GRADE_WORDS) + tuple(k for k in _FIXED if k)


@lru_cache(maxsize=8192, typed=True)     # a batch of 1,000 records holds a few dozen distinct scores; Result is frozen
def read_score(raw: str | float | int | None) -> Result:
    text = "" if raw is None else str(raw).strip()
    if text in GRADE_WORDS:
        return Result("grade", True, GRADE_WORDS[text])
    if text in _FIXED:
        return _FIXED[text]
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ScoreError(f"unknown score {text!r}") from None
    if not value.is_finite() or value < 0 or value > 100:
        raise ScoreError(f"score {text} is outside 0–100")
    number = float(value)
    return Result("number", number >= 60, number)


def normalise_score(raw: str | float | int | None) -> str:
    """The canonical text of a valid score: ``70.0`` -> ``"70"``, ``72.50`` -> ``"72.5"``; words unchanged."""
    text = "" if raw is None else str(raw).strip()
    result = read_score(text)
    if result.kind != "number":
        return text
    value = Decimal(text).normalize()
    return format(value, "f")


def better(a: Result, b: Result) -> Result:
    """The better of two results (policy.md §2): a pass beats a fail; then the higher number; a result
    without a number counts as lower than any number."""
    if a.passed != b.passed:
        return a if a.passed else b
    if a.numeric is None:
        return b if b.numeric is not None else a
    if b.numeric is None:
        return a
    return a if a.numeric >= b.numeric else b
