"""What is wrong with an uploaded file, said so that the person who uploaded it can fix it (files.md "Bad input").

A file with any problem is rejected whole, so :class:`FileRejected` always carries EVERY problem found, each with the
row number as the user sees it (the header line of a CSV is row 1, the first data row is row 2), the column, the
offending value and the reason in Chinese and English.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Iterable


class Reason(str):
    """A bilingual reason. It is a ``str`` so that marshmallow keeps it untouched inside its error messages
    (marshmallow wraps a str message in a list and never copies it), which lets a field speak both languages."""

    zh: str
    en: str

    def __new__(cls, zh: str, en: str) -> "Reason":
        obj = super().__new__(cls, f"{zh} / {en}")
        obj.zh, obj.en = zh, en
        return obj

    def __reduce__(self):  # keep both languages through pickling/copying
        return (Reason, (self.zh, self.en))


def reason_of(message: object) -> Reason:
    """Any marshmallow message as a Reason (ours already are; a stray built-in English message is wrapped)."""
    if isinstance(message, Reason):
        return message
    return Reason(f"无效：{message}", str(message))


@dataclass(frozen=True)
class Problem:
    file: str
    row: int | None          # as the user sees it; None = the whole file
    column: str | None       # canonical column key (e.g. "score"); None = the whole row or file
    value: str | None        # the cell as written (contact data masked)
    reason_zh: str
    reason_en: str
    header: str | None = None  # the column's title in the file (e.g. "成绩"), for display

    @classmethod
    def of(cls, file: str, row: int | None, column: str | None, value: str | None, reason: Reason,
           header: str | None = None) -> "Problem":
        return cls(file, row, column, value, reason.zh, reason.en, header)

    def to_dict(self) -> dict:
        return asdict(self)

    def sort_key(self) -> tuple:
        return (self.file, -1 if self.row is None else self.row)

    def _where(self) -> tuple[str, str]:
        zh, en = [], []
        if self.row is not None:
            zh.append(f"第 {self.row} 行")
            en.append(f"row {self.row}")
        if self.column is not None:
            title = self.header or self.column
            label = title if title == self.column else f"{title} ({self.column})"
            zh.append(f"列“{label}”")
            en.append(f"column '{label}'")
        if self.value not in (None, ""):
            zh.append(f"值“{self.value}”")
            en.append(f"value '{self.value}'")
        return "，".join(zh), ", ".join(en)

    def as_text(self) -> str:
        zh, en = self._where()
        head_zh = f"{zh}：" if zh else ""
        head_en = f"{en}: " if en else ""
        return f"{head_zh}{self.reason_zh}\n    {head_en}{self.reason_en}"


class FileRejected(Exception):
    """The upload was rejected whole; nothing was stored. ``problems`` lists every problem found."""

    def __init__(self, problems: Iterable[Problem]):
        # Stable order: by file, then row (whole-file problems first); within a row, in the order found.
        self.problems: list[Problem] = sorted(problems, key=Problem.sort_key)
        super().__init__(self._summary_en())

    def _summary_en(self) -> str:
        n = len(self.problems)
        files = ", ".join(dict.fromkeys(p.file for p in self.problems)) or "the upload"
        return f"{files} rejected: {n} problem{'s' if n != 1 else ''}"

    def to_dict(self) -> dict:
        return {"rejected": True, "count": len(self.problems), "problems": [p.to_dict() for p in self.problems]}

    def as_text(self) -> str:
        lines: list[str] = []
        by_file: dict[str, list[Problem]] = {}
        for p in self.problems:
            by_file.setdefault(p.file, []).append(p)
        for file, problems in by_file.items():
            n = len(problems)
            lines.append(f"文件 {file} 未被接受，共 {n} 个问题，没有保存任何数据：")
            lines.append(f"File {file} was rejected ({n} problem{'s' if n != 1 else ''}); nothing was stored:")
            lines.extend(f"  - {p.as_text()}" for p in problems)
        return "\n".join(lines)


def mask(value: str) -> str:
    """Personal contact data never appears in full in a report (files.md): keep enough to find it in the file."""
    if len(value) <= 4:
        return value[:1] + "*" * (len(value) - 1)
    return value[:3] + "*" * (len(value) - 5) + value[-2:]
