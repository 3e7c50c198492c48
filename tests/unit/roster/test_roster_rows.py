"""Roster files (classes, students, staff): kind by header, field checks and cross-file checks (files.md)."""
from pathlib import Path

import pytest

from contracts.events import RosterClassSchema, RosterStaffSchema, RosterStudentSchema
from services.roster.domain.rows import validate_roster_files
from shared.files.report import FileRejected

SAMPLES = Path(__file__).resolve().parents[3] / "demo" / "sample_college" / "csv" / "roster"

CLASSES = "班级,专业,年级,班主任工号\n机械2101,机械设计制造及其自动化,2021,T1001\n"
STUDENTS = ("学号,姓名,班级,学生邮箱,学生手机,家长姓名,家长关系,家长手机,家长邮箱,学籍状态\n"
            "0210101007,周明浩,机械2101,s7@stu.example.edu.cn,15453290810,蒋英强,母亲,18568132202,p7@family.example.com,在读\n")
STAFF = ("工号,姓名,角色,负责范围,邮箱,手机\n"
         "T1001,蒋涛,班主任,机械2101,t1001@college.example.edu.cn,13597942942\n"
         "C2021,余丽明,辅导员,\"2021，2022\",c2021@college.example.edu.cn,13932868828\n")


def f(name, text, encoding="utf-8"):
    return (name, text.encode(encoding))


def problems_of(files, **kwargs):
    with pytest.raises(FileRejected) as info:
        validate_roster_files(files, **kwargs)
    return info.value.problems


def test_sample_roster_validates_and_fits_the_event_contracts():
    batch = validate_roster_files([(p.name, p.read_bytes()) for p in sorted(SAMPLES.glob("*.csv"))])
    assert (len(batch.classes), len(batch.students), len(batch.staff)) == (12, 120, 21)
    assert sorted(batch.sources) == [("classes.csv", "classes", 12), ("staff.csv", "staff", 21),
                                     ("students.csv", "students", 120)]
    RosterClassSchema(many=True).load(batch.classes)
    contacts = ("email", "phone", "guardian_name", "guardian_relation", "guardian_phone", "guardian_email")
    RosterStudentSchema(many=True).load([{k: v for k, v in s.items() if k not in contacts} for s in batch.students])
    RosterStaffSchema(many=True).load([{k: v for k, v in s.items() if k not in ("email", "phone")}
                                       for s in batch.staff])
    assert "0210101007" in {s["student_id"] for s in batch.students}
    roles = {s["role"] for s in batch.staff}
    assert roles == {"counselor", "department_head", "vice_dean", "academic_affairs", "head_teacher"}


def test_kinds_are_recognised_by_header_whatever_the_file_name_gbk_and_bom():
    batch = validate_roster_files([f("a.csv", STAFF, "gbk"), f("b.csv", STUDENTS, "utf-8-sig"), f("c.csv", CLASSES)])
    assert batch.classes == [{"class_name": "机械2101", "major": "机械设计制造及其自动化", "cohort": 2021,
                              "head_teacher_id": "T1001"}]
    assert batch.students == [{
        "student_id": "0210101007", "name": "周明浩", "class_name": "机械2101", "email": "s7@stu.example.edu.cn",
        "phone": "15453290810", "guardian_name": "蒋英强", "guardian_relation": "母亲",
        "guardian_phone": "18568132202", "guardian_email": "p7@family.example.com", "status": "enrolled"}]
    assert [(s["staff_id"], s["role"], s["scope"]) for s in batch.staff] == [
        ("T1001", "head_teacher", ["机械2101"]), ("C2021", "counselor", ["2021", "2022"])]


def test_english_headers_and_values():
    students = ("student_id,name,class_name,status,phone\n"
                "1,A,机械2101,Suspended,+86 138-0013-8000\n2,B,机械2101,graduated,\n3,C,机械2101,withdrawn,\n")
    staff = "staff_id,name,role,scope\nT1001,X,head_teacher,机械2101\nV1,Y,Vice Dean,学院\n"
    batch = validate_roster_files([f("s.csv", students), f("t.csv", staff), f("c.csv", CLASSES)])
    assert [s["status"] for s in batch.students] == ["suspended", "graduated", "withdrawn"]
    assert batch.students[0]["phone"] == "13800138000" and batch.students[1]["email"] == ""
    assert [s["role"] for s in batch.staff] == ["head_teacher", "vice_dean"]


@pytest.mark.parametrize("text,scope", [
    ("机械2101，机械2102", ["机械2101", "机械2102"]), ("机械2101、机械2102;机械2103", ["机械2101", "机械2102", "机械2103"]),
    ("机械2101 机械2102 机械2101", ["机械2101", "机械2102"]), ("", []),
])
def test_scope_separators(text, scope):
    staff = f"工号,姓名,角色,负责范围\nT1001,蒋涛,班主任,\"{text}\"\n"
    [member] = validate_roster_files([f("t.csv", staff)]).staff
    assert member["scope"] == scope


@pytest.mark.parametrize("column,value,key,en", [
    ("学生手机", "1545329081", "phone", "mobile"),
    ("学生手机", "25453290810", "phone", "mobile"),
    ("家长手机", "abc", "guardian_phone", "mobile"),
    ("家长邮箱", "p7@family", "guardian_email", "e-mail"),
    ("学生邮箱", "s7.example.com", "email", "e-mail"),
    ("学籍状态", "转学", "status", "unknown status"),
    ("学号", "", "student_id", "must not be empty"),
])
def test_bad_student_cells(column, value, key, en):
    header, line = STUDENTS.splitlines()
    cells = dict(zip(header.split(","), line.split(",")))
    cells[column] = value
    text = header + "\n" + ",".join(cells.values()) + "\n"
    [p] = problems_of([f("s.csv", text), f("c.csv", CLASSES), f("t.csv", STAFF)])
    assert (p.file, p.row, p.column, p.header) == ("s.csv", 2, key, column)
    assert en in p.reason_en and p.reason_zh


def test_contact_values_are_masked_in_reports():
    text = STUDENTS.replace("18568132202", "1856813220x")
    [p] = problems_of([f("s.csv", text), f("c.csv", CLASSES), f("t.csv", STAFF)])
    assert p.column == "guardian_phone" and p.value == "185******0x"


@pytest.mark.parametrize("column,value,key,en", [
    ("年级", "21级", "cohort", "entry year"),
    ("年级", "1900", "cohort", "entry year"),
    ("专业", "", "major", "must not be empty"),
])
def test_bad_class_cells(column, value, key, en):
    cells = dict(zip(*(line.split(",") for line in CLASSES.splitlines())))
    cells[column] = value
    text = ",".join(cells) + "\n" + ",".join(cells.values()) + "\n"
    [p] = problems_of([f("c.csv", text), f("t.csv", STAFF)])
    assert (p.row, p.column, p.header) == (2, key, column) and en in p.reason_en


def test_cohort_written_with_ji():
    [c] = validate_roster_files([f("c.csv", CLASSES.replace(",2021,", ",2021级,"))], known_staff=["T1001"]).classes
    assert c["cohort"] == 2021


def test_bad_staff_cells():
    staff = STAFF + "X1,某人,校长,学校\nC2023,丁国玉,辅导员,机械2101\n"
    problems = problems_of([f("t.csv", staff)])
    assert [(p.row, p.column) for p in problems] == [(4, "role"), (5, "scope")]
    assert "unknown role" in problems[0].reason_en and "cohorts" in problems[1].reason_en


def test_student_class_must_exist_in_the_files_or_the_known_classes():
    [p] = problems_of([f("s.csv", STUDENTS)])
    assert (p.file, p.row, p.column, p.value) == ("s.csv", 2, "class_name", "机械2101")
    assert "不存在" in p.reason_zh and "does not exist" in p.reason_en
    batch = validate_roster_files([f("s.csv", STUDENTS)], known_classes=["机械2101"])
    assert len(batch.students) == 1


def test_head_teacher_must_be_staff():
    [p] = problems_of([f("c.csv", CLASSES)])
    assert (p.file, p.row, p.column, p.value) == ("c.csv", 2, "head_teacher_id", "T1001")
    assert "not a member of staff" in p.reason_en
    assert validate_roster_files([f("c.csv", CLASSES)], known_staff=["T1001"]).classes


def test_duplicates_identical_kept_once_disagreeing_rejected():
    line = STUDENTS.splitlines()[1]
    batch = validate_roster_files([f("s.csv", STUDENTS + line + "\n")], known_classes=["机械2101"])
    assert len(batch.students) == 1
    problems = problems_of([f("s.csv", STUDENTS + line.replace("在读", "休学") + "\n")], known_classes=["机械2101"])
    assert [(p.row, p.column) for p in problems] == [(2, "status"), (3, "status")]


def test_one_person_may_hold_two_roles_but_an_id_is_one_person():
    staff = STAFF + "T1001,蒋涛,系主任,机械设计制造及其自动化\n"
    assert len(validate_roster_files([f("t.csv", staff)]).staff) == 3
    problems = problems_of([f("t.csv", STAFF + "T1001,蒋海,系主任,机械\n")])
    assert [(p.row, p.column) for p in problems] == [(2, "name"), (4, "name")]


def test_every_problem_of_every_file_is_reported():
    problems = problems_of([f("empty.csv", ""), f("odd.csv", "a,b\n1,2\n"), f("h.csv", "班级,专业,年级,班主任工号\n"),
                            f("m.csv", "学号,姓名\n1,甲\n")])
    assert [(p.file, p.row, p.column) for p in problems] == [
        ("empty.csv", None, None), ("h.csv", None, None), ("m.csv", 1, "class_name"), ("odd.csv", None, None)]
    assert "no data rows" in problems[1].reason_en and "'class_name'" in problems[2].reason_en
