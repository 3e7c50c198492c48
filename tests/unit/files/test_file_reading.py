"""Reading uploaded CSV bytes into tables: encodings, headers and the whole-file problems of files.md."""
import codecs

import pytest

from shared.files.columns import Column, ColumnSpec
from shared.files.csv_format import CsvFormat
from shared.files.formats import available_formats, read_table, read_tables
from shared.files.report import FileRejected

SPEC = ColumnSpec(
    Column("student_id", "学号", "student_id"),
    Column("name", "姓名", "name"),
    Column("score", "成绩", "score"),
    Column("teacher", "任课教师", "teacher", required=False),
)
TEXT = "学号,姓名,成绩\n0210101,张三,85\n210102,李四,缺考\n"


def rows(filename, data, spec=SPEC):
    table = read_table(filename, data, columns=spec)
    return [(r.row_number, r.cells) for r in table], table


def rejected(filename, data, spec=SPEC):
    with pytest.raises(FileRejected) as info:
        table = read_table(filename, data, columns=spec)
        list(table)
        if table.problems:
            raise FileRejected(table.problems)
    return info.value.problems


def test_csv_format_is_discovered_through_its_entry_point():
    assert any(isinstance(f, CsvFormat) for f in available_formats())


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_encodings_are_detected(encoding):
    got, table = rows("g.csv", TEXT.encode(encoding))
    assert got == [
        (2, {"student_id": "0210101", "name": "张三", "score": "85", "teacher": ""}),
        (3, {"student_id": "210102", "name": "李四", "score": "缺考", "teacher": ""}),
    ]
    assert table.problems == []


def test_gb18030_only_characters_survive():
    data = "学号,姓名,成绩\n1,𠀀明,85\n".encode("gb18030")     # a character outside GBK
    got, _ = rows("g.csv", data)
    assert got[0][1]["name"] == "𠀀明"


def test_header_in_english_any_order_with_full_width_and_spaces_and_unknown_columns():
    data = " Score ,备注,ＳＴＵＤＥＮＴ＿ＩＤ,　姓 名　\n85,x,007,王五\n".encode("utf-8")
    got, table = rows("g.csv", data)
    assert got == [(2, {"score": "85", "student_id": "007", "name": "王五", "teacher": ""})]
    assert table.title("score") == "Score"


def test_blank_lines_are_skipped_but_counted_in_row_numbers():
    got, _ = rows("g.csv", "学号,姓名,成绩\n\n1,甲,60\n,,\n2,乙,70\n\n\n".encode())
    assert [n for n, _ in got] == [3, 5]


def test_quoted_value_with_comma_and_newline_is_one_row():
    got, _ = rows("g.csv", '学号,姓名,成绩\n1,"甲,\n乙",60\n2,丙,70\n'.encode())
    assert got[0] == (2, {"student_id": "1", "name": "甲,\n乙", "score": "60", "teacher": ""})
    assert got[1][0] == 3


def test_title_rows_above_the_header_are_skipped():
    data = "2023-2024学年第一学期成绩单,,\n学号,姓名,成绩\n1,甲,60\n".encode()
    got, table = rows("g.csv", data)
    assert table.header.row == 2 and got == [(3, {"student_id": "1", "name": "甲", "score": "60", "teacher": ""})]


def test_tab_separated_text_is_read():
    got, _ = rows("g.txt", "学号\t姓名\t成绩\n1\t甲\t60\n".encode("utf-16"))
    assert got[0][1]["name"] == "甲"


def test_empty_file():
    [p] = rejected("g.csv", b"")
    assert (p.row, p.column) == (None, None) and "空" in p.reason_zh and "empty" in p.reason_en


def test_file_with_only_blank_lines_is_empty():
    [p] = rejected("g.csv", codecs.BOM_UTF8 + b"\r\n \r\n")
    assert "empty" in p.reason_en


def test_header_only():
    [p] = rejected("g.csv", "学号,姓名,成绩\n".encode())
    assert p.row is None and "没有数据行" in p.reason_zh and "no data rows" in p.reason_en


def test_no_recognisable_header():
    [p] = rejected("g.csv", "0210101,张三,85\n210102,李四,90\n".encode())
    assert p.row is None and "表头" in p.reason_zh and "header" in p.reason_en
    assert "学号" in p.reason_zh and "student_id" in p.reason_en


def test_every_missing_required_column_is_named():
    problems = rejected("g.csv", "学号,任课教师\n1,x\n".encode())
    assert [(p.row, p.column, p.header) for p in problems] == [(1, "name", "姓名"), (1, "score", "成绩")]
    assert "缺少必需的列“姓名”" in problems[0].reason_zh and "'name'" in problems[0].reason_en


def test_a_row_naming_one_known_column_is_not_a_header():
    [p] = rejected("g.csv", "学号,备注\n1,x\n".encode())
    assert "header" in p.reason_en


def test_a_column_named_twice():
    [p] = rejected("g.csv", "学号,姓名,成绩,student_id\n1,甲,60,1\n".encode())
    assert (p.row, p.column) == (1, "student_id") and "两次" in p.reason_zh and "twice" in p.reason_en


def test_binary_file():
    [p] = rejected("g.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    assert p.row is None and "二进制" in p.reason_zh and "binary" in p.reason_en


def test_a_broken_xlsx_sent_as_csv_is_read_as_excel_and_called_damaged():
    [p] = rejected("g.csv", b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 100)
    assert "Excel" in p.reason_en and "损坏" in p.reason_zh


def test_unknown_file_type():
    [p] = rejected("g.pdf", b"%PDF-1.7\n\x00\x01")
    assert "PDF" in p.reason_en


def test_text_full_of_control_characters_is_garbage():
    [p] = rejected("g.csv", bytes(range(1, 32)) * 20)
    assert "乱码" in p.reason_zh and "garbled" in p.reason_en


def test_undecodable_bytes():
    [p] = rejected("g.csv", "学号,姓名,成绩\n".encode("gbk") + b"1,\x80\xff\xfe,60\n")
    assert p.row == 2 and "编码" in p.reason_zh and "encoding" in p.reason_en


def test_truncated_utf8_file():
    data = "学号,姓名,成绩\n1,张三丰,60\n2,李四".encode()[:-1]
    [p] = rejected("g.csv", data)
    assert "truncated" in p.reason_en


def test_damaged_utf8_is_not_mistaken_for_gbk():
    data = "学号,姓名,成绩\n1,张三丰,60\n".encode() + b"2,\xff\xfe,70\n"
    [p] = rejected("g.csv", data)
    assert p.row == 3 and "UTF-8" in p.reason_en


def test_unterminated_quote_keeps_earlier_problems_and_names_the_row():
    problems = rejected("g.csv", '学号,姓名,成绩\n1,甲,60\n1,2,3,4\n2,"乙,70\n'.encode())
    assert [p.row for p in problems] == [3, 4]
    assert "more cell" in problems[0].reason_en and "quote" in problems[1].reason_en


def test_too_large():
    with pytest.raises(FileRejected) as info:
        read_table("g.csv", TEXT.encode() * 10, columns=SPEC, max_bytes=100)
    assert "too large" in info.value.problems[0].reason_en


def test_short_rows_give_empty_cells():
    got, _ = rows("g.csv", "学号,姓名,成绩\n1,甲\n".encode())
    assert got == [(2, {"student_id": "1", "name": "甲", "score": "", "teacher": ""})]


def test_read_tables_recognises_the_kind_by_header():
    specs = {"people": ColumnSpec(Column("name", "姓名", "name"), Column("age", "年龄", "age")), "grades": SPEC}
    [(kind, table)] = read_tables("x.csv", "姓名,年龄\n甲,3\n".encode(), specs)
    assert kind == "people" and [r.cells for r in table] == [{"name": "甲", "age": "3"}]


# --- reading a table a chunk at a time (Table.column_chunks) -------------------------------------------------------
# A chunk of plain rows is checked whole, any other row by row: whatever the chunk size, the rows, their numbers and
# the problems must be exactly those of reading row by row.
MIXED = "".join([
    "学号,成绩,姓名\n",                          # the file's own column order; no teacher column
    "1,60,甲\n\n",                              # a blank row in between
    "2,70\n",                                   # a short row
    "3,80,丙,,\n",                              # empty extra cells: nothing to say
    "4,90,丁,x\n",                              # an extra cell: a problem
    "5,50,戊\n" * 2,
    " , , \n",                                  # a blank row of spaces at the end
]).encode()


@pytest.mark.parametrize("size", [1, 2, 3, 1000])
@pytest.mark.parametrize("data", [MIXED, MIXED + '6,"40,己\n'.encode()], ids=["whole", "breaks off"])
def test_column_chunks_give_the_rows_and_problems_of_reading_row_by_row(data, size):
    by_row, table = rows("g.csv", data)
    chunked = read_table("g.csv", data, columns=SPEC)
    got = [(number, chunk.cells(i, chunked.cell_keys))
           for chunk in chunked.column_chunks(size) for i, number in enumerate(chunk.numbers)]
    assert got == by_row
    assert [p.to_dict() for p in chunked.problems] == [p.to_dict() for p in table.problems]
    assert chunked.data_rows == table.data_rows == 6
    assert [p.row for p in table.problems] == ([6] if data == MIXED else [6, 10])
    assert chunked.cell_keys == tuple(by_row[0][1]) == ("student_id", "score", "name", "teacher")
    assert [(n, tuple(c.values())) for n, c in by_row] == [
        (2, ("1", "60", "甲", "")), (4, ("2", "70", "", "")), (5, ("3", "80", "丙", "")), (6, ("4", "90", "丁", "")),
        (7, ("5", "50", "戊", "")), (8, ("5", "50", "戊", ""))]


def test_first_line_decides_the_delimiter_even_past_the_part_looked_at_first():
    from shared.files.csv_format import _first_line
    text = "\n" * 70_000 + "a\tb\tc\n1\t2\t3\n"
    assert _first_line(text, look=16) == "a\tb\tc"
    assert _first_line("\r\n  \r\nx;y\r\n", look=3) == "x;y"
    assert _first_line(" \n \n", look=2) == ""
