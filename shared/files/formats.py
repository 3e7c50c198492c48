"""Uploaded bytes -> a :class:`Table` of rows keyed by canonical column.

File formats are plugins (entry-point group ``aq.file_formats``): a format turns bytes into one or more
:class:`Sheet` s, each an ITERATOR of :class:`SheetRow` (row number as the user sees it, cell texts). Everything
after that is format-neutral and streams: the header row is searched for among the first non-blank rows (an .xlsx
may have title rows above it), then data rows are yielded one by one as :class:`RawRow`, so a later format can
read a huge file lazily without anything downstream changing.
"""
from __future__ import annotations

import os
from functools import lru_cache
from itertools import islice
from importlib.metadata import entry_points
from typing import Iterator, Mapping, NamedTuple, Protocol

from shared.files.columns import ColumnSpec, HeaderMatch
from shared.files.report import FileRejected, Problem, Reason

ENTRY_POINT_GROUP = "aq.file_formats"
MAX_BYTES = 50 * 1024 * 1024      # an upload beyond this is refused with a message, not read (files.md)
HEADER_SCAN_ROWS = 20             # non-blank rows searched for the header (title rows may come first)
MIN_HEADER_MATCHES = 2            # a row naming fewer known columns is not taken for a header
_READ_ROWS = 1000                 # rows read from a sheet at a time


class CellIssue(NamedTuple):
    """A cell the format itself cannot give a plain value for (e.g. an .xlsx formula)."""
    index: int
    value: str
    reason: Reason


class SheetRow(NamedTuple):
    number: int                       # 1-based, as the user sees it (Excel row / CSV record)
    cells: list[str]
    issues: tuple[CellIssue, ...] = ()


class Sheet(Protocol):
    name: str                         # "" for formats with a single unnamed table (CSV)

    def rows(self) -> Iterator[SheetRow]: ...


class FileFormat(Protocol):
    name: str
    extensions: tuple[str, ...]       # lower case, with the dot

    def sniff(self, head: bytes) -> bool:
        """Could these first bytes be this format? Cheap; used when the extension lies or is missing."""

    def sheets(self, filename: str, data: bytes) -> Iterator[Sheet]:
        """The file's sheets, in order. Raise FileRejected for a file that cannot be read at all."""


class RawRow(NamedTuple):
    row_number: int
    cells: dict[str, str]             # canonical column key -> cell text as written ("" if absent)


class ColumnChunk(NamedTuple):
    """Consecutive data rows as columns: ``columns[key][i]`` is the cell of row ``numbers[i]`` ("" if absent)."""
    numbers: list[int]
    columns: dict[str, tuple[str, ...]]

    def cells(self, i: int, keys: tuple[str, ...]) -> dict[str, str]:
        """Row ``i`` as a RawRow's cells (keys in ``keys`` order, see Table.cell_keys)."""
        return {key: self.columns[key][i] for key in keys}


@lru_cache(maxsize=1)
def available_formats() -> tuple[FileFormat, ...]:
    return tuple(ep.load()() for ep in entry_points(group=ENTRY_POINT_GROUP))


# Recognisable non-text files, so the message can say what the file really is.
_MAGIC = (
    (b"PK\x03\x04", "一个 Excel 工作簿（.xlsx）或其他 zip 压缩文件", "an Excel workbook (.xlsx) or another zip archive"),
    (b"\xd0\xcf\x11\xe0", "旧版 Excel 文件（.xls）", "an old-style Excel file (.xls)"),
    (b"%PDF", "PDF 文件", "a PDF file"),
)


def _whole(filename: str, zh: str, en: str) -> FileRejected:
    return FileRejected([Problem.of(filename, None, None, None, Reason(zh, en))])


def pick_format(filename: str, data: bytes) -> FileFormat:
    formats = available_formats()
    ext = os.path.splitext(filename)[1].lower()
    head = data[:8192]
    by_ext = [f for f in formats if ext in f.extensions]
    for fmt in by_ext + [f for f in formats if f not in by_ext]:
        if fmt.sniff(head):
            return fmt
    names = "、".join(e for f in formats for e in f.extensions)
    for magic, zh, en in _MAGIC:
        if head.startswith(magic):
            raise _whole(filename, f"这是{zh}，目前只能读取以下格式：{names}。请另存为 CSV（UTF-8）后再上传",
                         f"this is {en}; only these formats can be read now: {names}. Save it as CSV (UTF-8) "
                         f"and upload again")
    if by_ext:
        return by_ext[0]              # let the format say precisely what is wrong with it
    raise _whole(filename, f"无法识别的文件类型“{ext or '(无扩展名)'}”，请上传以下格式：{names}",
                 f"unrecognised file type '{ext or '(no extension)'}'; please upload one of: {names}")


def size_problem(filename: str, size: int, max_bytes: int = MAX_BYTES) -> FileRejected | None:
    """The rejection of a file of ``size`` bytes, if its size alone rejects it. Senders (the CLI) call this before
    reading the file, so a file of hundreds of MB is refused without being read or sent."""
    if size == 0:
        return _whole(filename, "文件是空的（0 字节）", "the file is empty (0 bytes)")
    if size > max_bytes:
        mb, limit = size / 2**20, max_bytes / 2**20
        return _whole(filename, f"文件太大（{mb:.0f} MB），上限为 {limit:.0f} MB，请拆分成几个文件分别上传",
                      f"the file is too large ({mb:.0f} MB; the limit is {limit:.0f} MB): split it into smaller files")
    return None


def _check_size(filename: str, data: bytes, max_bytes: int) -> None:
    problem = size_problem(filename, len(data), max_bytes)
    if problem is not None:
        raise problem


def _is_blank(cells: list[str]) -> bool:
    return not "".join(cells).strip()


class Table:
    """The data rows of one sheet, keyed by canonical column. Iterate ONCE; it streams.

    Problems met while reading (cells the format rejects, extra cells past the header, a header with no data rows,
    a file that breaks off) are collected in ``problems``; callers add them to their own after iterating."""

    def __init__(self, file: str, spec: ColumnSpec, header: HeaderMatch, width: int, rows: Iterator[SheetRow]):
        self.file = file
        self.spec = spec
        self.header = header
        self.problems: list[Problem] = []
        self.data_rows = 0
        self._width = width
        self._rows = rows
        self._key_at = {i: key for key, i in header.index.items()}
        self._broken: list[Problem] | None = None

    def title(self, key: str) -> str:
        """The column's title as the file writes it (or its Chinese name if the file lacks it)."""
        return self.header.titles.get(key) or self.spec.by_key[key].zh

    @property
    def cell_keys(self) -> tuple[str, ...]:
        """The keys of every row's ``cells``, in their order: the file's columns as the header orders them, then the
        columns it lacks (which read as "")."""
        return tuple(self.header.index) + tuple(k for k in self.spec.keys if k not in self.header.index)

    def __iter__(self) -> Iterator[RawRow]:
        positions = list(self.header.index.items())
        absent = {key: "" for key in self.spec.keys if key not in self.header.index}
        for numbers, chunk in self._data_chunks(_READ_ROWS):
            for number, cells in zip(numbers, chunk):
                n = len(cells)
                row = {key: (cells[i] if i < n else "") for key, i in positions}
                if absent:
                    row.update(absent)
                yield RawRow(number, row)

    def column_chunks(self, size: int) -> Iterator[ColumnChunk]:
        """The same rows as iterating, ``size`` rows at a time, as one tuple of cell texts per column: what a
        column-wise validator reads without a dict per row. Iterate ONCE (instead of iterating the table)."""
        positions = list(self.header.index.items())
        reach = max(i for _, i in positions) + 1 if positions else 0
        absent = [key for key in self.spec.keys if key not in self.header.index]
        padding = [""] * reach
        for numbers, chunk in self._data_chunks(size):
            if min(map(len, chunk)) < reach:     # a short row reads "" in its missing cells
                chunk = [cells if len(cells) >= reach else cells + padding[len(cells):] for cells in chunk]
            by_position = list(zip(*chunk)) if reach else []
            columns = {key: by_position[i] for key, i in positions}
            for key in absent:
                columns[key] = ("",) * len(numbers)
            yield ColumnChunk(list(numbers), columns)

    def _data_chunks(self, size: int) -> Iterator[tuple[tuple[int, ...], tuple[list[str], ...]]]:
        """(row numbers, cells) of up to ``size`` non-blank data rows at a time, noting the problems met on the way
        in ``problems``. A chunk of plain rows (none blank, none longer than the header, no cell the format
        refused: the usual case) is checked whole; any other chunk row by row."""
        rows = self._until_broken()
        width = self._width
        while chunk := list(islice(rows, size)):
            numbers, cells, issues = zip(*chunk)
            if max(map(len, cells)) <= width and not any(issues) and all(map(str.strip, map("".join, cells))):
                self.data_rows += len(chunk)
                yield numbers, cells
                continue
            kept = [row for row in chunk if self._data_row(row)]
            if kept:
                numbers, cells, _ = zip(*kept)
                yield numbers, cells
        if self._broken is not None:
            self.problems.extend(self._broken)
        elif self.data_rows == 0:
            self.problems.append(Problem.of(self.file, None, None, None, Reason(
                "文件只有表头，没有数据行", "the file has a header row but no data rows")))

    def _until_broken(self) -> Iterator[SheetRow]:
        """The sheet's rows until it breaks off (e.g. an unterminated quote): what was read so far is kept and the
        break becomes a problem."""
        try:
            yield from self._rows
        except FileRejected as broken:
            self._broken = broken.problems

    def _data_row(self, row: SheetRow) -> bool:
        """Whether ``row`` is a data row (blank rows, trailing or in between, carry nothing); notes its problems."""
        number, cells, issues = row
        if _is_blank(cells):
            return False
        self.data_rows += 1
        width = self._width
        if len(cells) > width and not _is_blank(cells[width:]):
            self._extra_cells(number, cells[width:])
        for issue in issues:
            if issue.index in self._key_at:
                key = self._key_at[issue.index]
                self.problems.append(Problem.of(self.file, number, key, issue.value, issue.reason, self.title(key)))
        return True

    def _extra_cells(self, number: int, extra: list[str]) -> None:
        shown = ",".join(c for c in extra if c.strip())
        self.problems.append(Problem.of(self.file, number, None, shown, Reason(
            f"此行比表头多出 {len(extra)} 个单元格（常见原因：某个值里有逗号却没有加引号）",
            f"this row has {len(extra)} more cell(s) than the header (often a value containing a comma "
            f"that is not quoted)")))


def _find_header(rows: Iterator[SheetRow], specs: Mapping[str, ColumnSpec]):
    """(kind, header row, the rows after it, non-blank rows seen); kind is None when none of the first
    HEADER_SCAN_ROWS non-blank rows names enough known columns."""
    seen = 0
    for row in rows:
        if _is_blank(row.cells):
            continue
        seen += 1
        scores = {kind: spec.match_count(row.cells) for kind, spec in specs.items()}
        kind = max(scores, key=scores.get)
        if scores[kind] >= MIN_HEADER_MATCHES:
            return kind, row, rows, seen
        if seen >= HEADER_SCAN_ROWS:
            break
    return None, None, rows, seen


def _no_header(file: str, seen: int, specs: Mapping[str, ColumnSpec]) -> Problem:
    if seen == 0:
        return Problem.of(file, None, None, None, Reason("文件是空的，没有任何内容", "the file is empty"))
    zh = "；".join(spec.describe()[0] for spec in specs.values())
    en = "; ".join(spec.describe()[1] for spec in specs.values())
    return Problem.of(file, None, None, None, Reason(
        f"找不到表头：第一行应当是列名，例如 {zh}（如果列名显示为乱码，说明文件的编码无法识别，请另存为 UTF-8 CSV 或 .xlsx）",
        f"no recognisable header row: the first row should name the columns, e.g. {en} (if the names look garbled, "
        f"the file is in an encoding that cannot be recognised: save it as UTF-8 CSV or .xlsx)"))


class _Found(NamedTuple):
    kind: str | None                  # None = no header recognised on this sheet
    table: Table | None
    problems: list[Problem]


def _sheets(filename: str, data: bytes, specs: Mapping[str, ColumnSpec], max_bytes: int,
            sheet_name: str | None) -> Iterator[_Found]:
    _check_size(filename, data, max_bytes)
    fmt = pick_format(filename, data)
    sheets = list(fmt.sheets(filename, data))
    if sheet_name is not None:
        sheets = [s for s in sheets if s.name == sheet_name]
        if not sheets:
            raise _whole(filename, f"找不到工作表“{sheet_name}”", f"there is no sheet named '{sheet_name}'")
    for sheet in sheets:
        file = f"{filename} [{sheet.name}]" if sheet.name else filename
        kind, header, rest, seen = _find_header(iter(sheet.rows()), specs)
        if kind is None:
            yield _Found(None, None, [_no_header(file, seen, specs)] if seen else [])
            continue
        match, problems = specs[kind].bind(file, header.number, header.cells)
        table = None if problems else Table(file, specs[kind], match, len(header.cells), rest)
        yield _Found(kind, table, problems)


def read_tables(filename: str, data: bytes, specs: Mapping[str, ColumnSpec], *,
                max_bytes: int = MAX_BYTES) -> list[tuple[str, Table]]:
    """Every sheet of the file whose header names one of ``specs`` (kind = the spec's key), e.g. the three roster
    kinds in one workbook. Sheets without a recognisable header are ignored if another sheet has one (a notes
    sheet); raises FileRejected if the file cannot be read, no sheet has a header, or a header lacks a column."""
    found = list(_sheets(filename, data, specs, max_bytes, None))
    tables = [(f.kind, f.table) for f in found if f.table is not None]
    problems = [p for f in found if f.kind is not None for p in f.problems]
    if not tables and not problems:
        problems = [p for f in found for p in f.problems] or [_no_header(filename, 0, specs)]
    if problems:
        raise FileRejected(problems)
    return tables


def read_table(filename: str, data: bytes, *, columns: ColumnSpec, sheet: str | None = None,
               max_bytes: int = MAX_BYTES) -> Table:
    """The one table of a file: the first non-empty sheet, or the named one. Raises FileRejected for whole-file
    problems: empty, too large, unreadable, no header, missing or repeated columns."""
    for found in _sheets(filename, data, {"table": columns}, max_bytes, sheet):
        if found.table is not None:
            return found.table
        if found.problems:
            raise FileRejected(found.problems)
    raise _whole(filename, "文件是空的，没有任何内容", "the file is empty")
