"""Advising's results moved from one row per grade record (semester_results) to one row per student and semester
(semester_records, revision 7f15cd0b3321): what was kept is carried over both ways, and the counselor lists are
built from it as before."""
import json

import pytest
from alembic import command
from sqlalchemy import text

from services.advising import list_handlers
from shared.db import engine_for
from shared.migrations import alembic_config

pytestmark = pytest.mark.real

BEFORE = "f9f3db508ba6"
RESULTS = [   # student, semester, course, exam type, name, credits, type, score, failed
    ("s1", "2023-2024-1", "MATH", "regular", "高等数学", 4.0, "required", "40", True),
    ("s1", "2023-2024-1", "MATH", "makeup", "高等数学", 4.0, "required", "52", True),
    ("s1", "2023-2024-1", "ENG", "regular", 'English "B"', 2.5, "restricted", "缺考", True),
    ("s1", "2023-2024-1", "PE", "regular", "体育", 1.0, "elective", "合格", False),
    ("s1", "2023-2024-2", "MATH2", "regular", "高等数学(2)", 4.0, "required", "75", False),
    ("s2", "2023-2024-1", "MATH", "regular", "高等数学", 4.0, "required", "45", True),
    ("s2", "2023-2024-1", "MATH", "makeup", "高等数学", 4.0, "required", "70", False),
]


def migrate(url: str, revision: str, down: bool = False) -> None:
    cfg = alembic_config("advising")
    with engine_for("advising", url).begin() as conn:
        cfg.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(cfg, revision)


@pytest.fixture(params=["postgres", "sqlite"])
def url(request, pg_url_template, tmp_path):
    if request.param == "postgres":
        return pg_url_template.replace("{service}", "advising")
    return f"sqlite:///{tmp_path / 'advising'}.sqlite"


def test_results_are_carried_over_to_one_row_per_student_and_semester_and_back(url):
    migrate(url, BEFORE)
    engine = engine_for("advising", url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO semester_results VALUES (:s, :m, :c, :e, :n, :cr, :t, :sc, :f)"),
                     [dict(zip(("s", "m", "c", "e", "n", "cr", "t", "sc", "f"), row)) for row in RESULTS])
    migrate(url, "head")
    with engine.connect() as conn:
        rows = {(r.student_id, r.semester): (r.failed, json.loads(r.records)) for r in conn.execute(
            text("SELECT student_id, semester, failed, records FROM semester_records"))}
        failed, _ = list_handlers.candidates(conn, "2023-2024-1")
    assert rows[("s1", "2023-2024-2")] == (False, [["MATH2", "regular", "高等数学(2)", "required", "75", 4.0]])
    assert rows[("s1", "2023-2024-1")] == (True, [["ENG", "regular", 'English "B"', "restricted", "缺考", 2.5],
                                                  ["MATH", "makeup", "高等数学", "required", "52", 4.0],
                                                  ["MATH", "regular", "高等数学", "required", "40", 4.0],
                                                  ["PE", "regular", "体育", "elective", "合格", 1.0]])
    assert bool(rows[("s2", "2023-2024-1")][0]) is True      # a failed sitting, repaired by the make-up
    assert failed == {"s1": [
        {"course_code": "ENG", "course_name": 'English "B"', "credits": 2.5, "course_type": "restricted",
         "result": "缺考"},
        {"course_code": "MATH", "course_name": "高等数学", "credits": 4.0, "course_type": "required", "result": "52"}]}
    migrate(url, BEFORE, down=True)
    with engine.connect() as conn:
        back = conn.execute(text("SELECT student_id, semester, course_code, exam_type, course_name, credits, "
                                 "course_type, score, failed FROM semester_results")).all()
    assert sorted((*r[:8], bool(r[8])) for r in back) == sorted(RESULTS)
