"""Which column is which: header cells matched to canonical column keys (files.md "Column names").

A header cell matches a column by its Chinese name, its English name or its key, in any order, after NFKC
normalisation (full-width letters, digits and brackets become half-width), case folding and dropping spaces,
underscores and hyphens, so "学 号 ", "Student ID", "student_id" and "ＳＴＵＤＥＮＴ＿ＩＤ" all mean ``student_id``.
Unknown columns are ignored.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from shared.files.report import Problem, Reason

_NOISE = re.compile(r"[\s_\-]+")


def normalise_header(text: str) -> str:
    return _NOISE.sub("", unicodedata.normalize("NFKC", text or "").casefold())


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    en: str
    required: bool = True
    aliases: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return (self.zh, self.en, self.key) + self.aliases

    @property
    def label(self) -> str:
        return f"{self.zh} ({self.en})"


@dataclass(frozen=True)
class HeaderMatch:
    """Where each known column sits in the header row (0-based cell index) and how the file titles it."""
    row: int
    index: dict[str, int]
    titles: dict[str, str] = field(default_factory=dict)


class ColumnSpec:
    def __init__(self, *columns: Column):
        self.columns = columns
        self.keys = tuple(c.key for c in columns)
        self.by_key = {c.key: c for c in columns}
        self._lookup: dict[str, str] = {}
        for column in columns:
            for name in column.names:
                self._lookup[normalise_header(name)] = column.key

    def key_for(self, cell: str) -> str | None:
        return self._lookup.get(normalise_header(cell)) if cell else None

    def match_count(self, cells: list[str]) -> int:
        """How many distinct known columns this row names: used to find the header row (and a roster file's kind)."""
        return len({k for k in map(self.key_for, cells) if k})

    def bind(self, filename: str, row: int, cells: list[str]) -> tuple[HeaderMatch, list[Problem]]:
        """Map the header row to column positions; every missing required column and every column named twice
        is a problem of its own (so the user fixes the header in one go)."""
        index: dict[str, int] = {}
        titles: dict[str, str] = {}
        problems: list[Problem] = []
        for i, cell in enumerate(cells):
            key = self.key_for(cell)
            if key is None:
                continue
            if key in index:
                first = titles[key]
                problems.append(Problem.of(filename, row, key, cell.strip(), Reason(
                    f"列“{self.by_key[key].label}”出现了两次（第 {index[key] + 1} 列“{first}”和第 {i + 1} 列），请删除其一",
                    f"column {self.by_key[key].label} appears twice (columns {index[key] + 1} '{first}' and {i + 1}); "
                    f"remove one"), header=cell.strip()))
                continue
            index[key] = i
            titles[key] = cell.strip()
        for column in self.columns:
            if column.required and column.key not in index:
                problems.append(Problem.of(filename, row, column.key, None, Reason(
                    f"缺少必需的列“{column.zh}”（英文列名 {column.en}）",
                    f"required column '{column.en}' ({column.zh}) is missing"), header=column.zh))
        return HeaderMatch(row, index, titles), problems

    def describe(self) -> tuple[str, str]:
        required = [c for c in self.columns if c.required]
        return "、".join(c.zh for c in required), ", ".join(c.en for c in required)
