"""Excel workbooks (.xlsx), read with openpyxl in read-only mode so a sheet streams row by row (files.md
"Reading any file").

* Every sheet is offered in workbook order; ``read_table`` takes the first one with content unless a sheet is
  named, ``read_tables`` (the roster) takes every sheet whose header it recognises (班级 / 学生 / 教职工).
* Row numbers are Excel's own row numbers (title rows above the header included), so a report points at the
  row the user sees. The header row itself is found by ``formats.py`` below any merged title rows.
* Cells become the text Excel SHOWS: a whole number stored as a number is written without ``.0``
  (``210101001``, not ``210101001.0``), and a number whose format pads it with zeros (custom format
  ``000000000`` or ``00000``) gets those zeros back (``0210101`` stays ``0210101``). A leading zero of an id typed
  into a plain "General" cell was dropped by Excel when it was typed; nothing can recover it (docs/files.md).
* Formula cells are refused, naming the row and the column: the value a formula shows is whatever Excel last
  computed, which a file exported by another program may not even contain.
* Trailing blank rows and columns (a sheet "formatted" down to row 1,048,576) cost nothing: only the cells the
  file actually contains are read, and blank rows are skipped downstream.
"""
from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from typing import Iterator
from xml.etree.ElementTree import ParseError

from shared.files.formats import CellIssue, SheetRow
from shared.files.report import FileRejected, Problem, Reason

try:                                   # openpyxl is a dependency; the guard keeps the message friendly
    import openpyxl
    from openpyxl.styles.numbers import BUILTIN_FORMATS, BUILTIN_FORMATS_MAX_SIZE
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet._reader import WorkSheetParser
except ImportError:                    # pragma: no cover
    openpyxl = None

FORMULA = Reason("单元格是公式：请在 Excel 中把公式列“复制 → 选择性粘贴为数值”后再上传",
                 "the cell holds a formula: in Excel copy the column and 'Paste Special → Values', then upload again")


def _reject(filename: str, zh: str, en: str, row: int | None = None) -> FileRejected:
    return FileRejected([Problem.of(filename, row, None, None, Reason(zh, en))])


def _damaged(filename: str, row: int | None = None) -> FileRejected:
    return _reject(filename, "Excel 文件不完整或已损坏（可能上传或复制时被截断），请重新导出后再上传",
                   "the Excel file is incomplete or damaged (cut off while copying or uploading?); export it "
                   "again and upload it again", row)


_PADDED_FORMAT = re.compile(r'^((?:"[^"]*"|\\.)*)(0+)$')


def zero_padding(number_format: str) -> tuple[str, int]:
    """(literal prefix, width) of a whole-number format that pads with zeros: ``000000000`` -> ("", 9),
    ``"0"000000`` or ``\\0000000`` -> ("0", 6); ("", 0) for any other format."""
    match = _PADDED_FORMAT.match(number_format.split(";", 1)[0])
    if not match or (len(match[2]) < 2 and not match[1]):
        return "", 0
    prefix = match[1].replace('"', "").replace("\\", "")
    return prefix, len(match[2])


def cell_text(value, number_format: str = "General") -> str:
    """The cell as Excel shows it, for the formats a grade or roster file uses."""
    if value is None:
        return ""
    if value.__class__ is str:
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer() and abs(value) < 1e15):
        whole = int(value)
        if number_format == "General" or whole < 0:
            return str(whole)
        prefix, width = zero_padding(number_format)
        return prefix + str(whole).zfill(width) if width else str(whole)
    if isinstance(value, float):
        return f"{value:.15g}"                # what Excel shows: 15 significant digits, no float noise
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


class XlsxSheet:
    def __init__(self, filename: str, workbook, worksheet):
        self.filename = filename
        self.name = worksheet.title
        self._workbook = workbook
        self._worksheet = worksheet
        self._formats: dict[int, str] = {}

    def _number_format(self, style_id: int) -> str:
        fmt = self._formats.get(style_id)
        if fmt is None:
            try:
                num_id = self._workbook._cell_styles[style_id].numFmtId
                if num_id < BUILTIN_FORMATS_MAX_SIZE:
                    fmt = BUILTIN_FORMATS.get(num_id, "General")
                else:
                    fmt = self._workbook._number_formats[num_id - BUILTIN_FORMATS_MAX_SIZE]
            except (IndexError, AttributeError):
                fmt = "General"
            self._formats[style_id] = fmt
        return fmt

    def rows(self) -> Iterator[SheetRow]:
        wb = self._workbook
        number = 0
        try:
            with self._worksheet._get_source() as src:
                parser = WorkSheetParser(src, self._worksheet._shared_strings, data_only=False, epoch=wb.epoch,
                                         date_formats=wb._date_formats, timedelta_formats=wb._timedelta_formats)
                for number, parsed in parser.parse():
                    yield self._row(number, parsed)
        except (zipfile.BadZipFile, ParseError, EOFError, OSError, KeyError, ValueError, IndexError, TypeError):
            raise _damaged(self.filename, number + 1 if number else None) from None

    def _row(self, number: int, parsed: list[dict]) -> SheetRow:
        # Only the cells the file holds; blanks in between are filled so positions match the header.
        if not parsed:
            return SheetRow(number, [])
        cells = [""] * parsed[-1]["column"]
        issues = []
        for cell in parsed:
            value = cell["value"]
            if value is None:
                continue
            i = cell["column"] - 1
            if cell["data_type"] == "f":
                formula = value if isinstance(value, str) else getattr(value, "text", None) or "="
                issues.append(CellIssue(i, formula, Reason(f"{FORMULA.zh}（单元格 {get_column_letter(i + 1)}{number}）",
                                                           f"{FORMULA.en} (cell {get_column_letter(i + 1)}{number})")))
                cells[i] = formula
                continue
            style = cell["style_id"]
            cells[i] = cell_text(value, self._number_format(style) if style else "General")
        return SheetRow(number, cells, tuple(issues))


class XlsxFormat:
    name = "xlsx"
    extensions = (".xlsx", ".xlsm")

    def sniff(self, head: bytes) -> bool:
        return head.startswith(b"PK\x03\x04")

    def sheets(self, filename: str, data: bytes) -> Iterator[XlsxSheet]:
        if openpyxl is None:                # pragma: no cover
            raise _reject(filename, "服务器缺少 openpyxl，无法读取 Excel 文件", "openpyxl is missing: cannot read .xlsx")
        try:
            workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False,
                                              keep_links=False)
        except zipfile.BadZipFile:
            raise _damaged(filename) from None
        except Exception:                   # not an Excel workbook at all, or its parts are damaged
            if not zipfile.is_zipfile(io.BytesIO(data)):
                raise _damaged(filename) from None
            raise _reject(filename, "这个 zip 文件不是 Excel 工作簿（.xlsx），或工作簿已损坏，请在 Excel 中重新保存",
                          "this zip file is not an Excel workbook (.xlsx), or the workbook is damaged; save it "
                          "again from Excel") from None
        for worksheet in workbook.worksheets:
            if hasattr(worksheet, "_get_source"):     # chartsheets have no cells
                yield XlsxSheet(filename, workbook, worksheet)
