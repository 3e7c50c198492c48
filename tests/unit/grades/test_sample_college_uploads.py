"""Every sample file of the demo college validates: the roster first, then all 14 uploads against its names."""
from pathlib import Path

import pytest

from contracts.events import GradeRecordSchema
from services.grades.domain.rows import student_ids_in, validate_grade_rows
from services.roster.domain.rows import validate_roster_files

SAMPLES = Path(__file__).resolve().parents[3] / "demo" / "sample_college" / "csv"
UPLOADS = sorted((SAMPLES / "uploads").glob("*.csv"))


@pytest.fixture(scope="module")
def roster_names():
    batch = validate_roster_files([(p.name, p.read_bytes()) for p in sorted((SAMPLES / "roster").glob("*.csv"))])
    return {s["student_id"]: s["name"] for s in batch.students}


def test_there_are_fourteen_uploads():
    assert len(UPLOADS) == 14


@pytest.mark.parametrize("path", UPLOADS, ids=lambda p: p.name)
def test_sample_upload_validates(path, roster_names):
    data = path.read_bytes()
    assert student_ids_in(path.name, data) <= set(roster_names)
    records = validate_grade_rows(path.name, data, roster_names)
    data_lines = [line for line in data.decode("utf-8-sig").splitlines()[1:] if line.strip()]
    assert len(records) == len(data_lines)
    assert GradeRecordSchema(many=True).load(records) == records
    semester = path.name[3:14]
    assert {r["semester"] for r in records} == {semester}
    expected = "makeup" if "makeup" in path.name else "regular"
    assert {r["exam_type"] for r in records} >= {expected}
