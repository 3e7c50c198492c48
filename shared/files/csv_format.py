"""CSV files, in whatever encoding the school's systems and Excel write (files.md "Encodings"): UTF-8, UTF-8 with
BOM, GB18030/GBK (Excel on a Chinese Windows), and UTF-16 with BOM (Excel's "Unicode text"). Detected, never asked.

Row numbers count CSV records, so they equal the Excel row numbers the user sees (a quoted value spanning two lines
is still one row).
"""
from __future__ import annotations

import codecs
import csv
import io
import re
from itertools import count, repeat
from typing import Iterator

from shared.files.formats import SheetRow
from shared.files.report import FileRejected, Problem, Reason

_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
# Characters no exported table contains: C0/C1 controls (but tab and newlines), private use, replacement char.
_UNLIKELY = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ue000-\uf8ff\ufffd]")
_CJK = re.compile("[\u4e00-\u9fff]")
_GARBAGE_RATIO = 0.01


def _reject(filename: str, zh: str, en: str, row: int | None = None) -> FileRejected:
    return FileRejected([Problem.of(filename, row, None, None, Reason(zh, en))])


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _damaged_utf8(filename: str, data: bytes, error: UnicodeDecodeError) -> FileRejected:
    line = _line_of(data, error.start)
    if error.reason == "unexpected end of data":
        return _reject(filename, "文件不完整：在最后一个字符中间断开了（可能上传或复制时被截断），请重新导出",
                       "the file is truncated: it ends in the middle of a character (cut off while copying or "
                       "uploading?); export it again", line)
    return _reject(filename, f"文件按 UTF-8 编码保存，但第 {line} 行附近有损坏的字节，请重新导出",
                   f"the file is UTF-8 but has damaged bytes near line {line}; export it again", line)


def _looks_utf8(data: bytes, error: UnicodeDecodeError) -> bool:
    """A decode error after several correctly encoded Chinese characters means a damaged UTF-8 file, not a GBK
    one (GBK text almost never forms valid multi-byte UTF-8 CJK characters by accident)."""
    return len(_CJK.findall(data[:error.start].decode("utf-8"))) >= 4


def decode(filename: str, data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        try:
            return _plausible(filename, data.decode("utf-8-sig"))
        except UnicodeDecodeError as error:
            raise _damaged_utf8(filename, data, error) from None
    if data.startswith(_UTF16_BOMS):
        try:
            return _plausible(filename, data.decode("utf-16"))
        except UnicodeDecodeError:
            raise _reject(filename, "文件是 UTF-16 编码但已损坏，请重新导出",
                          "the file is UTF-16 but damaged; export it again") from None
    if b"\x00" in data:
        raise _reject(filename, "这不是文本（CSV）文件：里面有二进制数据。请在 Excel 中“另存为 CSV”后再上传",
                      "this is not a text (CSV) file: it contains binary data. Use Excel's 'Save as CSV' "
                      "and upload again")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        if _looks_utf8(data, error):
            raise _damaged_utf8(filename, data, error) from None
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError as error2:
            line = _line_of(data, error2.start)
            raise _reject(filename, f"无法识别文件编码（第 {line} 行附近既不是 UTF-8 也不是 GBK/GB18030），"
                                    f"文件可能已损坏；请重新导出为 CSV（UTF-8）",
                          f"cannot tell the file's encoding (near line {line} it is neither UTF-8 nor "
                          f"GBK/GB18030); the file may be damaged. Export it again as CSV (UTF-8)", line) from None
    return _plausible(filename, text)


def _plausible(filename: str, text: str) -> str:
    """Text that decodes but is full of control characters is binary data or a wrong guess: say so."""
    if len(_UNLIKELY.findall(text)) > max(1, len(text) * _GARBAGE_RATIO):
        raise _reject(filename, "文件内容无法识别为文本（大量乱码或控制字符），可能不是 CSV 文件或已损坏",
                      "the content does not read as text (garbled or full of control characters): it may not "
                      "be a CSV file, or it is damaged")
    return text


def _delimiter(text: str) -> str:
    """Comma, unless the first line is clearly tab- or semicolon-separated (Excel 'text' exports)."""
    first = _first_line(text)
    counts = {d: first.count(d) for d in (",", "\t", ";")}
    best = max(counts, key=counts.get)
    return best if counts[best] > counts[","] else ","


def _first_line(text: str, look: int = 65536) -> str:
    """The first non-blank line, found in the file's first ``look`` characters (further if it may go on past them)
    instead of splitting the whole file into lines."""
    while True:
        lines = text[:look].splitlines()
        whole = look >= len(text)
        for i, line in enumerate(lines):
            if line.strip():
                if whole or i < len(lines) - 1:
                    return line
                break                             # it may go on past the part looked at
        else:
            if whole:
                return ""
        look *= 4


class CsvSheet:
    name = ""

    def __init__(self, filename: str, text: str):
        self.filename = filename
        self.text = text

    def rows(self) -> Iterator[SheetRow]:
        reader = csv.reader(io.StringIO(self.text, newline=""), delimiter=_delimiter(self.text), strict=True)
        numbers = count(1)
        try:
            # Built without a Python call per row: SheetRow(number, cells) for each record, numbered from 1.
            yield from map(tuple.__new__, repeat(SheetRow), zip(numbers, reader, repeat(())))
        except csv.Error as error:
            number = next(numbers) - 1            # zip drew the failing record's number before the reader failed
            raise _reject(self.filename, f"第 {number} 行的 CSV 格式有误（{error}），常见原因是引号没有配对",
                          f"row {number} is not valid CSV ({error}); often an unmatched quote",
                          number) from None


class CsvFormat:
    name = "csv"
    extensions = (".csv", ".txt", ".tsv")

    def sniff(self, head: bytes) -> bool:
        return head.startswith(_UTF16_BOMS) or b"\x00" not in head

    def sheets(self, filename: str, data: bytes) -> Iterator[CsvSheet]:
        yield CsvSheet(filename, decode(filename, data))
