"""Indicators through the whole system: the sample college's roster and its first academic year of grades go
through six processes on RabbitMQ and PostgreSQL; outcomes are imported with `aq outcomes import`; a head
teacher closes a talk; then `aq scorecard ...` and `aq report semester` answer from assessment's own projections.
Expected figures are computed here from the sample files directly."""
import csv
import json

import pytest

from shared.academic.scores import read_score
from tests.support.broker import temporary_vhost
from tests.support.cluster import SAMPLE, Cluster, sample_uploads
from tests.support.postgres import temporary_databases

pytestmark = [pytest.mark.real, pytest.mark.e2e]

S, P = "2021-2022-2", "2021-2022-1"
OUTCOMES = SAMPLE / "outcomes" / "outcomes.csv"
MECH, MECH_CLASS = "机械设计制造及其自动化", "机械2101"


def rows(path):
    return list(csv.DictReader(open(path, encoding="utf-8")))


def class_of():
    return {r["学号"]: r["班级"] for r in rows(SAMPLE / "csv" / "roster" / "students.csv")}


@pytest.fixture(scope="module")
def college(tmp_path_factory):
    with temporary_vhost() as uri, temporary_databases() as db:
        cluster = Cluster(tmp_path_factory.mktemp("aq-home"), uri, db)
        cluster.up()
        try:
            cluster.import_sample_roster()
            for path in sample_uploads()[:4]:            # 2021-2022-1 and -2, regular then make-up
                cluster.upload(path)
            yield cluster
        finally:
            cluster.down()


def test_a_bad_outcomes_file_is_rejected_with_every_row(college, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("学号,类别,日期,值,级别\n999,CET4,2023-06-15,430,\n210101001,去向,,待业中,\n", encoding="utf-8")
    result = college.aq("outcomes", "import", str(bad), check=False)
    assert result.returncode == 1
    assert "第 2 行" in result.stderr and "第 3 行" in result.stderr and "nothing was stored" in result.stderr


def test_outcomes_scorecards_and_the_semester_report(college, tmp_path):
    out = college.aq("outcomes", "import", str(OUTCOMES)).stdout
    assert "402 rows: 402 new" in out
    assert "0 new, 0 changed, 402 unchanged" in college.aq("outcomes", "import", str(OUTCOMES)).stdout

    # A head teacher closes the talk of one warned student of 2021-2022-1 (due 14 days after the warning).
    tasks = college.json("tasks", "list")
    talk = next(t for t in tasks if t["kind"] == "talk" and t["semester"] == P)
    college.aq("tasks", "close", talk["task_id"], "--by", talk["assignee"], "--record", json.dumps(
        {"date": "2022-01-10", "place": "办公室", "discussion": "学习计划", "support_plan": "每周答疑"}))

    # Head teacher T1001 (机械2101), spring 2022: the class failure rate, counted from the upload file itself.
    classes = class_of()
    sat = failed = 0
    for r in rows(SAMPLE / "csv" / "uploads" / "03-2021-2022-2-regular.csv"):
        result = read_score(r["成绩"])
        if classes[r["学号"]] == MECH_CLASS and result.has_result:
            sat, failed = sat + 1, failed + (not result.passed)
    card = college.json("scorecard", "head-teacher", "T1001", "--semester", S, "--as-of", "2022-07-01")
    [mine] = card["classes"]
    assert mine["class_name"] == MECH_CLASS and mine["students"] == 10
    assert mine["failure"]["results"] == {"numerator": failed, "denominator": sat, "rate": failed / sat}
    assert set(card["cohort_average"]) == {"2021"} and card["class_count"]["college"] == 12

    # The department's 2025 graduates and its 2024 intake, counted from outcomes.csv.
    outcomes = rows(OUTCOMES)
    mech = {sid for sid, c in classes.items() if c == MECH_CLASS}
    employed = sum(1 for r in outcomes if r["类别"] == "去向" and r["学号"] in mech and r["值"] != "待就业")
    dept = college.json("scorecard", "department", MECH, "--year", "2025")
    assert dept["graduates"]["graduates"] == 10 and dept["employment_rate"] == employed / 10
    [intake] = [r["值"] for r in outcomes if r["类别"] == "招生" and r["日期"].startswith("2024")
                and r["值"].startswith(MECH)]
    _, planned, enrolled = intake.split(":")
    assert college.json("scorecard", "department", MECH, "--year", "2024")["enrolment"] == {
        "numerator": int(enrolled), "denominator": int(planned), "rate": int(enrolled) / int(planned)}
    assert "招生完成率" in college.aq("scorecard", "department", MECH, "--year", "2024").stdout

    # The report: files written, warnings as the warnings service counts them, the closed talk on time.
    written = college.aq("report", "semester", S, "--out", str(tmp_path), "--json").stdout.split()
    html, pdf, data = (tmp_path / f"semester-report-{S}.{ext}" for ext in ("html", "pdf", "json"))
    assert sorted(written) == sorted(map(str, (html, pdf, data)))
    assert pdf.read_bytes().startswith(b"%PDF") and "学业预警" in html.read_text(encoding="utf-8")
    report = json.loads(data.read_text(encoding="utf-8"))
    with college.rpc() as rpc:
        warnings = rpc.call("warnings", "list_warnings", None, "all")
    for semester, key in ((S, "levels"), (P, "previous_levels")):
        active = [w for w in warnings if w["semester"] == semester and w["status"] == "active"]
        assert report["warnings"][key]["total"] == len(active)
    [effect] = report["intervention"]
    assert effect["semester"] == P and effect["groups"]["on_time"]["warned"] == 1
    assert effect["warned"] == len([w for w in warnings if w["semester"] == P and w["status"] == "active"])
