"""`aq policy what-if` through the whole system (real RabbitMQ and PostgreSQL, services as OS processes): a changed
threshold reports exactly the changes a hand-checked small case predicts, the default policy on the sample college
reports none, and nothing is stored or announced either way."""
import csv
import json
from collections import Counter

import pytest
from sqlalchemy import create_engine, inspect, select, text

from tests.support.broker import temporary_vhost
from tests.support.cluster import SAMPLE, Cluster, sample_uploads
from tests.support.postgres import temporary_databases

pytestmark = [pytest.mark.real, pytest.mark.e2e]

DEFAULT_POLICY = "services/warnings/policies/default.yml"

# The default policy with the unresolved-credit thresholds lowered (yellow 10 -> 8, orange 15 -> 12) and no GPA rule.
CANDIDATE = """
version: "lower-unresolved"
rules:
  unresolved_failed_credits:
    thresholds: {yellow: 8, orange: 12, red: 25}
  semester_failed_credits:
    thresholds: {yellow: 8, orange: 12}
"""

A20, S21, A21 = "2020-2021-1", "2020-2021-2", "2021-2022-1"
CLASS, COHORT = "试验2001", "2020"
# student id -> name, and their records (semester, course, score, credits), all required regular exams.
SMALL = {
    # A20 5 failed (15 graded credits: GPA not judged); S21 9 unresolved, GPA 80/29; A21 still 9.
    # Default: nothing. Candidate: S21 yellow (9 ≥ 8); A21 yellow, escalated after S21 -> orange.
    "200101001": ("赵一", [(A20, "F1", "40", 5), (A20, "P1", "90", 10), (S21, "F2", "40", 4), (S21, "P2", "90", 10),
                          (A21, "P3", "90", 10)]),
    # S21 12 unresolved (semester 6, GPA 80/32 = 2.5): default yellow (≥ 10), candidate orange (≥ 12).
    "200101002": ("钱二", [(A20, "F1", "40", 6), (A20, "P1", "90", 10), (S21, "F2", "40", 6), (S21, "P2", "90", 10)]),
    # 20 credits at 65: GPA 1.5 -> orange by default; the candidate has no GPA rule: lifted.
    "200101003": ("孙三", [(A20, "P1", "65", 10), (A20, "P2", "65", 10)]),
    # 8 failed + 12 at 65: semester 8 -> yellow, GPA 0.9 -> orange by default; candidate yellow: downgraded.
    "200101004": ("李四", [(A20, "F1", "50", 8), (A20, "P1", "65", 12)]),
    # Well under both.
    "200101005": ("周五", [(A20, "P1", "85", 20)]),
}
PREDICTED = [  # (student, semester, kind, old, new), in the answer's order: semester, then student
    ("200101003", A20, "lifted", "orange", "none"),
    ("200101004", A20, "downgraded", "orange", "yellow"),
    ("200101001", S21, "issued", "none", "yellow"),
    ("200101002", S21, "escalated", "yellow", "orange"),
    ("200101001", A21, "issued", "none", "orange"),
]


def write_csv(path, header, rows):
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


def small_case_files(folder):
    classes = write_csv(folder / "classes.csv", ["班级", "专业", "年级", "班主任工号"],
                        [[CLASS, "机械设计制造及其自动化", COHORT, "T1001"]])
    students = write_csv(folder / "students.csv",
                         ["学号", "姓名", "班级", "学生邮箱", "学生手机", "家长姓名", "家长关系", "家长手机", "家长邮箱", "学籍状态"],
                         [[sid, name, CLASS, f"s{sid}@stu.example.edu.cn", f"1390000{sid[-4:]}", "家长", "父亲",
                           f"1380000{sid[-4:]}", f"p{sid}@family.example.com", "在读"]
                          for sid, (name, _) in SMALL.items()])
    grades = write_csv(folder / "small-case.csv",
                       ["学号", "姓名", "学年学期", "课程代码", "课程名称", "学分", "课程性质", "考试性质", "成绩", "任课教师", "开课学院"],
                       [[sid, name, semester, course, f"课程{course}", f"{credits:.1f}", "必修", "正常考试", score, "", ""]
                        for sid, (name, records) in SMALL.items() for semester, course, score, credits in records])
    return classes, students, grades


class WarningsDatabase:
    """Every row of every table of the warnings service's database, to show that what-if wrote nothing."""

    def __init__(self, url_template):
        self.engine = create_engine(url_template.replace("{service}", "warnings").replace(
            "postgresql://", "postgresql+psycopg2://"), pool_size=1, max_overflow=0)

    def snapshot(self) -> dict:
        with self.engine.connect() as conn:
            return {name: sorted(map(repr, conn.execute(text(f'SELECT * FROM "{name}"')).all()))
                    for name in inspect(conn).get_table_names()}

    def outbox(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM outbox")).scalar_one()


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    with temporary_vhost() as uri, temporary_databases() as template:
        home = tmp_path_factory.mktemp("aq-home")
        cluster = Cluster(home, uri, template)
        cluster.up()
        database = WarningsDatabase(template)
        try:
            cluster.import_sample_roster()
            classes, students, grades = small_case_files(home)
            cluster.aq("roster", "import", classes, students)
            cluster.upload(grades)
            candidate = home / "candidate.yml"
            candidate.write_text(CANDIDATE, encoding="utf-8")
            yield cluster, database, str(candidate)
        finally:
            database.engine.dispose()
            cluster.down()


def what_if(cluster, *args):
    return json.loads(cluster.aq("policy", "what-if", *args, "--json").stdout)


def untouched(cluster, database, action):
    """Run ``action``; check that the warnings database and every service's notices and tasks are as before."""
    with cluster.rpc() as rpc:
        told = (len(rpc.call("notification", "list_notices")), len(rpc.call("advising", "list_tasks", None, "all")))
    before, outbox = database.snapshot(), database.outbox()
    result = action()
    assert database.snapshot() == before
    assert database.outbox() == outbox
    with cluster.rpc() as rpc:
        assert (len(rpc.call("notification", "list_notices")),
                len(rpc.call("advising", "list_tasks", None, "all"))) == told
    return result


def test_a_changed_threshold_reports_the_hand_checked_changes_and_stores_nothing(system):
    cluster, database, candidate = system
    answer = untouched(cluster, database, lambda: what_if(cluster, candidate))
    assert (answer["current_policy"], answer["candidate_policy"]) == ("default-1", "lower-unresolved")
    assert [(c["student_id"], c["semester"], c["kind"], c["old_level"], c["new_level"])
            for c in answer["changes"]] == PREDICTED
    assert {(c["cohort"], c["class_name"]) for c in answer["changes"]} == {(COHORT, CLASS)}
    assert answer["by_kind"] == {"issued": 2, "escalated": 1, "downgraded": 1, "lifted": 1, "total": 5}
    assert answer["by_cohort"] == {COHORT: answer["by_kind"]} and answer["by_class"] == {CLASS: answer["by_kind"]}
    assert {level: (c["today"], c["candidate"]) for level, c in answer["by_level"].items()} == {
        "yellow": (1, 2), "orange": (2, 2), "red": (0, 0), "dismissal": (0, 0)}


def test_one_semester_and_the_plain_report(system):
    cluster, database, candidate = system
    answer = what_if(cluster, candidate, "--semester", S21)
    assert [(c["student_id"], c["kind"]) for c in answer["changes"]] == [("200101001", "issued"),
                                                                         ("200101002", "escalated")]
    shown = untouched(cluster, database, lambda: cluster.aq("policy", "what-if", candidate).stdout)
    assert "would be warned 2, escalated 1, downgraded 1, lifted 1 (5 changes)" in shown
    assert "Nothing was stored and nobody was told." in shown


def test_a_policy_the_service_cannot_use_is_refused_plainly(system):
    cluster, _, candidate = system
    bad = candidate.replace("candidate.yml", "bad.yml")
    with open(bad, "w", encoding="utf-8") as f:
        f.write(CANDIDATE.replace("yellow: 8, orange: 12, red: 25", "yellow: 8, orange: 6"))
    result = cluster.aq("policy", "what-if", bad, check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == ("error: bad.yml: rule unresolved_failed_credits: threshold for orange (6) must "
                                     "be above yellow's (8)")


@pytest.fixture(scope="module")
def sample_college(system):
    """The sample college's records as they stand after its 14 uploads, in one upload: warnings are a function of
    the records (policy.md §5), and one cascade is much quicker than fourteen."""
    cluster, database, candidate = system
    latest, header = {}, None
    for path in sample_uploads():
        with open(path, encoding="utf-8") as f:
            for row in csv.DictReader(f):
                header = list(row)
                latest[(row["学号"], row["学年学期"], row["课程代码"], row["考试性质"])] = row
    combined = cluster.home / "sample-college.csv"
    write_csv(combined, header, [[row[column] for column in header] for row in latest.values()])
    cluster.upload(combined)
    return system


def test_the_default_policy_on_the_sample_college_changes_nothing(sample_college):
    cluster, database, _ = sample_college
    answer = untouched(cluster, database, lambda: what_if(cluster, DEFAULT_POLICY))
    assert answer["changes"] == [] and answer["by_kind"]["total"] == 0
    # "Today" is the levels policy.md gives the sample college (expected.json), plus the small case's three.
    expected = Counter(v["level"] for v in json.loads((SAMPLE / "expected.json").read_text())["levels"].values())
    expected.update({"yellow": 1, "orange": 2})
    assert {level: c["today"] for level, c in answer["by_level"].items()} == {
        level: expected[level] for level in ("yellow", "orange", "red", "dismissal")}
    assert answer["students"] == 120 + len(SMALL)
