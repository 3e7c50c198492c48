"""Excel workbooks (.xlsx) as real files written by openpyxl: sheets, title rows, numbers shown as Excel shows
them, zero-padded ids, formulas refused, damaged workbooks named (files.md "Reading any file")."""
import io
from pathlib import Path

import openpyxl
import pytest
from openpyxl.styles import Font

from services.grades.domain.rows import validate_grade_rows
from services.roster.domain.rows import validate_roster_files
from shared.files.formats import available_formats, read_table
from shared.files.report import FileRejected
from shared.files.xlsx_format import XlsxFormat, cell_text, zero_padding
from tests.unit.files.test_file_reading import SPEC

SAMPLE = Path(__file__).resolve().parents[3] / "demo" / "sample_college"
HEADER = ["学号", "姓名", "学年学期", "课程代码", "课程名称", "学分", "课程性质", "考试性质", "成绩", "任课教师", "开课学院"]
ROSTER = {"210101001": "杨建明", "0210101007": "周明浩"}


def workbook(*sheets) -> bytes:
    """sheets: (title, rows, setup) ; setup(ws) may add formats, merges, formulas."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows, *setup in sheets:
        ws = wb.create_sheet(title)
        for r in rows:
            ws.append(r)
        for step in setup:
            step(ws)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def cells(data, filename="g.xlsx", spec=SPEC, sheet=None):
    table = read_table(filename, data, columns=spec, sheet=sheet)
    got = [(r.row_number, r.cells) for r in table]
    return got, table


def test_xlsx_format_is_discovered_through_its_entry_point():
    assert any(isinstance(f, XlsxFormat) for f in available_formats())


def test_header_below_a_merged_title_row_numbers_are_excel_rows_and_blank_tails_are_ignored():
    def title(ws):
        ws.insert_rows(1)
        ws["A1"] = "2023-2024学年第一学期成绩单"
        ws.merge_cells("A1:D1")
        ws.cell(row=200, column=40).font = Font(bold=True)   # a formatted but empty cell far away
    data = workbook(("成绩", [["学号", "姓名", "成绩"], [210101001, "张三", 85], [], ["210102", "李四", 72.5]], title))
    got, table = cells(data)
    assert got == [(3, {"student_id": "210101001", "name": "张三", "score": "85", "teacher": ""}),
                   (5, {"student_id": "210102", "name": "李四", "score": "72.5", "teacher": ""})]
    assert table.problems == []


def test_ids_stored_as_numbers_keep_the_zeros_their_number_format_shows():
    def pad(ws):
        ws["A2"].number_format = "0000000000"
        ws["A3"].number_format = "General"
    data = workbook(("s", [["学号", "姓名", "成绩"], [210101007, "周明浩", 60], [210101001, "杨建明", 70.0]], pad))
    got, _ = cells(data)
    assert [c["student_id"] for _, c in got] == ["0210101007", "210101001"]
    assert [c["score"] for _, c in got] == ["60", "70"]


@pytest.mark.parametrize("fmt,padding", [("000000000", ("", 9)), ("00000;@", ("", 5)), ('"0"0', ("0", 1)),
                                         ("\\0000", ("0", 3)), ("General", ("", 0)), ("0", ("", 0)),
                                         ("0.00", ("", 0)), ("#,##0", ("", 0))])
def test_zero_padding_of_number_formats(fmt, padding):
    assert zero_padding(fmt) == padding


@pytest.mark.parametrize("value,fmt,text", [(4.0, "General", "4"), (3.5, "0.0", "3.5"), (0.1 + 0.2, "General", "0.3"),
                                            (None, "General", ""), ("缺考", "@", "缺考"), (7, "000", "007"),
                                            (210101007, '"0"000000000', "0210101007")])
def test_cell_text_is_what_excel_shows(value, fmt, text):
    assert cell_text(value, fmt) == text


def test_a_formula_cell_is_refused_naming_row_and_column():
    def formula(ws):
        ws["C3"] = "=B2*0+60"
    data = workbook(("s", [["学号", "姓名", "成绩"], ["1", "张三", 85], ["2", "李四", None]], formula))
    got, table = cells(data)
    assert len(got) == 2
    [problem] = table.problems
    assert (problem.row, problem.column, problem.value) == (3, "score", "=B2*0+60")
    assert "公式" in problem.reason_zh and "formula" in problem.reason_en and "C3" in problem.reason_en


def test_first_sheet_unless_one_is_named():
    data = workbook(("说明", [["学号", "姓名", "成绩"], ["1", "甲", 60]]),
                    ("第二张", [["学号", "姓名", "成绩"], ["2", "乙", 70]]))
    assert cells(data)[0][0][1]["name"] == "甲"
    assert cells(data, sheet="第二张")[0][0][1]["name"] == "乙"
    with pytest.raises(FileRejected) as info:
        cells(data, sheet="第三张")
    assert "第三张" in info.value.problems[0].reason_zh


@pytest.mark.parametrize("cut", [0.3, 0.7, 0.95])
def test_a_truncated_workbook_is_named_damaged_never_a_stack_trace(cut):
    data = (SAMPLE / "xlsx" / "uploads" / "01-2021-2022-1-regular.xlsx").read_bytes()
    with pytest.raises(FileRejected) as info:
        validate_grade_rows("cut.xlsx", data[:int(len(data) * cut)], ROSTER)
    [problem] = info.value.problems
    assert "损坏" in problem.reason_zh and "damaged" in problem.reason_en


def test_a_zip_that_is_not_a_workbook():
    buffer = io.BytesIO()
    import zipfile
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("readme.txt", "hello")
    with pytest.raises(FileRejected) as info:
        cells(buffer.getvalue())
    assert "not an Excel workbook" in info.value.problems[0].reason_en


def test_an_empty_workbook_is_empty():
    with pytest.raises(FileRejected) as info:
        cells(workbook(("空", [])))
    assert "empty" in info.value.problems[0].reason_en


def test_a_grades_workbook_with_numbers_and_synonyms_validates():
    rows = [HEADER, [210101001, "杨建明", 202301, "MATH01", "高等数学(1)", 4, "必修", "正常", 59.5, "杨英", None],
            ["0210101007", "周明浩", "2023-2024学年第1学期", "ENG01", "英语", 2.0, "限选", "补考一", "缺考", "", ""]]
    records = validate_grade_rows("g.xlsx", workbook(("成绩", rows)), ROSTER)
    assert [(r["student_id"], r["semester"], r["credits"], r["score"], r["exam_type"]) for r in records] == [
        ("210101001", "2023-2024-1", 4.0, "59.5", "regular"), ("0210101007", "2023-2024-1", 2.0, "缺考", "makeup")]


def test_the_sample_roster_workbook_equals_the_three_csv_files():
    workbook_batch = validate_roster_files([("roster.xlsx", (SAMPLE / "xlsx" / "roster" / "roster.xlsx").read_bytes())])
    csv_batch = validate_roster_files([(p.name, p.read_bytes()) for p in sorted((SAMPLE / "csv" / "roster").glob("*.csv"))])
    assert (workbook_batch.classes, workbook_batch.students, workbook_batch.staff) == \
        (csv_batch.classes, csv_batch.students, csv_batch.staff)
    assert len(workbook_batch.students) == 120


@pytest.mark.parametrize("name", sorted(p.stem for p in (SAMPLE / "xlsx" / "uploads").glob("*.xlsx")))
def test_every_sample_upload_workbook_equals_its_csv(name):
    batch = validate_roster_files([(p.name, p.read_bytes()) for p in sorted((SAMPLE / "csv" / "roster").glob("*.csv"))])
    names = {s["student_id"]: s["name"] for s in batch.students}
    xlsx = validate_grade_rows(f"{name}.xlsx", (SAMPLE / "xlsx" / "uploads" / f"{name}.xlsx").read_bytes(), names)
    csv = validate_grade_rows(f"{name}.csv", (SAMPLE / "csv" / "uploads" / f"{name}.csv").read_bytes(), names)
    assert xlsx == csv and len(xlsx) > 20
