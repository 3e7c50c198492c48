"""Marshmallow fields for cells of uploaded tables, with bilingual reasons.

A :class:`Cell` NFKC-normalises and strips the text (full-width digits and letters become half-width), then hands
it to a plain ``parse`` function that returns the canonical value or raises :class:`CellError`. Keeping the parsing
in plain functions keeps the college's vocabulary testable without marshmallow, and lets repetitive columns
(semester, credits, ...) memoise their parse.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Any, Callable

from marshmallow import ValidationError, fields, missing as missing_

from shared.files.report import Reason

_nfkc = unicodedata.normalize

EMPTY = Reason("不能为空", "must not be empty")
MISSING = Reason("缺少这一列", "the column is missing")


class CellError(ValueError):
    def __init__(self, zh: str, en: str):
        super().__init__(en)
        self.reason = Reason(zh, en)


def clean(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    return text.strip()


class Cell(fields.Field):
    """``blank``: what an empty cell means (``None`` = it may not be empty; a callable makes a fresh value)."""

    def __init__(self, parse: Callable[[str], Any] | None = None, *, blank: Any = "", **kwargs):
        if kwargs.get("validate"):
            raise TypeError("Cell takes a parse function, not validators")
        super().__init__(required=True, **kwargs)
        self.parse = parse
        self.blank = blank

    def deserialize(self, value, attr=None, data=None, **kwargs):
        # Field.deserialize would also build an And() validator per call for validators we never have: at
        # 100,000 rows x 11 columns that is a third of the time, so only the "missing" check is kept.
        if value is missing_:
            raise ValidationError(MISSING)
        return self._deserialize(value, attr, data)

    def _deserialize(self, value, attr, data, **kwargs):
        if value.__class__ is str:                # the common case, inlined: this runs once per cell
            text = (value if value.isascii() else _nfkc("NFKC", value)).strip()
        else:
            text = clean(value)
        if not text:
            if self.blank is None:
                raise ValidationError(EMPTY)
            return self.blank() if callable(self.blank) else self.blank
        if self.parse is None:
            return text
        try:
            return self.parse(text)
        except CellError as error:
            raise ValidationError(error.reason) from None


def required_text() -> Cell:
    return Cell(blank=None)


def optional_text() -> Cell:
    return Cell(blank="")


# --- ids ----------------------------------------------------------------------------------------------------------
_SCIENTIFIC = re.compile(r"^\d(?:\.\d+)?[eE]\+?\d+$")


def parse_id(text: str) -> str:
    """Student and staff ids are strings, kept as written: ``0210101`` keeps its leading zero. Excel's display of
    a long number as 2.10101E+08 has lost the id, so that is refused with the fix."""
    if _SCIENTIFIC.match(text):
        raise CellError("编号被 Excel 显示成了科学计数法，原值已丢失；请把该列设为“文本”格式后重新导出",
                        "Excel turned the id into scientific notation and lost it; format the column as Text and "
                        "export again")
    return text


# --- contacts (files.md: mainland mobiles, valid e-mail addresses) -------------------------------------------------
_PHONE_NOISE = re.compile(r"[\s\-()]+")
_MOBILE = re.compile(r"^1\d{10}$")
_EMAIL = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")


def parse_mobile(text: str) -> str:
    """11 digits starting with 1; spaces, hyphens and a +86 prefix are tolerated and dropped."""
    digits = _PHONE_NOISE.sub("", text)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not _MOBILE.match(digits):
        raise CellError("不是有效的手机号码（应为以 1 开头的 11 位数字）",
                        "not a valid mobile number (11 digits starting with 1)")
    return digits


def parse_email(text: str) -> str:
    if not _EMAIL.match(text) or len(text) > 254:
        raise CellError("不是有效的电子邮箱地址", "not a valid e-mail address")
    return text
