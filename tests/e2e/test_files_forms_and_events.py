"""Real files and the grade system's own events, through the whole system (issue 3, files.md).

Three runs of the sample college, each on its own fresh vhost and PostgreSQL databases, one after another:
  A  the UTF-8 CSV files (the baseline),
  B  the .xlsx workbooks: roster.xlsx with sheets 班级/学生/教职工, and the 14 grade workbooks (title rows above the
     header, numbers stored as numbers),
  C  GBK-encoded CSV (converted here) for uploads 1-10, and uploads 11-14 RELEASED AS EVENTS by a stand-in grade
     system that publishes with plain kombu (no nameko).
B and C must produce exactly A's warnings, notices, tasks and flags. Cluster C then stays up for the rest:
bad files leave no trace in any database, a rejected batch is parked and its publisher told, and a make-up score
corrected from 55 to 65 lifts a warning with its notices and task updates."""
from __future__ import annotations

import csv
import json
import uuid
from datetime import datetime, timezone

import openpyxl
import pytest
from kombu import Connection, Exchange, Queue
from sqlalchemy import MetaData, create_engine, func, select

from shared import config
from tests.e2e.test_sample_college_cascade import snapshot
from tests.support.broker import temporary_vhost
from tests.support.cluster import SAMPLE, Cluster, sample_uploads, wait_for
from tests.support.postgres import temporary_databases

pytestmark = [pytest.mark.real, pytest.mark.e2e]

COMPARED = ("changes_by_upload", "warnings", "notices", "tasks", "flags")
EXCHANGE = Exchange("aq.events", type="topic", durable=True)
COLUMNS = {"学号": "student_id", "姓名": "name", "学年学期": "semester", "课程代码": "course_code", "课程名称": "course_name",
           "学分": "credits", "课程性质": "course_type", "考试性质": "exam_type", "成绩": "score", "任课教师": "teacher",
           "开课学院": "offering_college"}
EVENT_UPLOADS = 4        # the last four sample uploads arrive as grade-system events in run C


class GradeSystem:
    """A stand-in for the school's grade system: publishes releases and reads the replies, with kombu only."""

    def __init__(self, amqp_uri: str):
        self.conn = Connection(amqp_uri)
        self.replies = Queue(f"gradesystem.replies.{uuid.uuid4().hex[:6]}", exchange=EXCHANGE, durable=False,
                             auto_delete=False, bindings=None, routing_key="grades.results_accepted.v1")
        channel = self.conn.channel()
        EXCHANGE(channel).declare()
        self.replies(channel).declare()
        self.replies(channel).bind_to(EXCHANGE, routing_key="grades.results_rejected.v1")
        self.channel = channel
        self.seen: dict[str, dict] = {}

    def release(self, batch_id: str, records: list[dict], released_by: str = "教务系统") -> None:
        envelope = {"id": str(uuid.uuid4()), "type": "gradesystem.results_released", "version": 1,
                    "source": "gradesystem", "time": datetime.now(timezone.utc).isoformat(),
                    "correlation_id": batch_id, "causation_id": None,
                    "data": {"batch_id": batch_id, "released_by": released_by, "records": records}}
        with self.conn.Producer(self.channel) as producer:
            producer.publish(json.dumps(envelope, ensure_ascii=False).encode(), exchange=EXCHANGE,
                             routing_key="gradesystem.results_released.v1", delivery_mode=2,
                             content_type="application/json", content_encoding="utf-8")

    def reply(self, batch_id: str, timeout: float = 60) -> dict:
        def arrived():
            while (message := self.channel.basic_get(self.replies.name, no_ack=True)) is not None:
                body = json.loads(message.body)
                self.seen[body["data"]["batch_id"]] = body
            return self.seen.get(batch_id)
        return wait_for(arrived, timeout=timeout, message=f"the reply to batch {batch_id}")

    def close(self):
        self.channel.close()
        self.conn.close()


def released_records(path) -> list[dict]:
    """A sample upload as the grade system holds it: English keys, numbers as numbers."""
    records = []
    for row in csv.DictReader(open(path, encoding="utf-8")):
        record = {COLUMNS[k]: v for k, v in row.items() if k in COLUMNS}
        record["credits"] = float(record["credits"])
        if record["score"].replace(".", "", 1).isdigit():
            record["score"] = float(record["score"]) if "." in record["score"] else int(record["score"])
        records.append(record)
    return records


def run_form(cluster: Cluster, roster: list, uploads: list) -> dict:
    """``uploads``: callables (cluster) -> upload id that return once the upload's cascade settled."""
    cluster.aq("roster", "import", *map(str, roster))
    changes = []
    for upload in uploads:
        upload_id = upload(cluster)
        with cluster.rpc() as rpc:
            changes.append(rpc.call("warnings", "trace", upload_id)["changes"])
    return snapshot(cluster, changes)


def file_upload(path):
    return lambda cluster: cluster.upload(path, wait=True)


def event_upload(system_holder: dict, path):
    def upload(cluster):
        batch_id = f"GS-{path.stem}"
        system_holder["system"].release(batch_id, released_records(path))
        reply = system_holder["system"].reply(batch_id)
        assert reply["type"] == "grades.results_accepted", reply
        cluster.aq("wait", batch_id, "--timeout", "300")
        return batch_id
    return upload


@pytest.fixture(scope="module")
def forms(tmp_path_factory):
    results = {}
    csv_roster = [SAMPLE / "csv" / "roster" / f for f in ("staff.csv", "classes.csv", "students.csv")]
    with temporary_vhost() as uri, temporary_databases() as db:
        cluster = Cluster(tmp_path_factory.mktemp("aq-csv"), uri, db)
        cluster.up()
        try:
            results["csv"] = run_form(cluster, csv_roster, [file_upload(p) for p in sample_uploads()])
        finally:
            cluster.down()
    with temporary_vhost() as uri, temporary_databases() as db:
        cluster = Cluster(tmp_path_factory.mktemp("aq-xlsx"), uri, db)
        cluster.up()
        try:
            workbooks = sorted((SAMPLE / "xlsx" / "uploads").glob("*.xlsx"))
            assert len(workbooks) == 14
            results["xlsx"] = run_form(cluster, [SAMPLE / "xlsx" / "roster" / "roster.xlsx"],
                                       [file_upload(p) for p in workbooks])
        finally:
            cluster.down()
    gbk_dir = tmp_path_factory.mktemp("gbk")
    gbk_roster = []
    for path in csv_roster:
        (gbk_dir / path.name).write_bytes(path.read_text(encoding="utf-8").encode("gbk"))
        gbk_roster.append(gbk_dir / path.name)
    gbk_uploads = []
    for path in sample_uploads()[:-EVENT_UPLOADS]:
        (gbk_dir / path.name).write_bytes(path.read_text(encoding="utf-8").encode("gbk"))
        gbk_uploads.append(gbk_dir / path.name)
    with temporary_vhost() as uri, temporary_databases() as db:
        cluster = Cluster(tmp_path_factory.mktemp("aq-gbk"), uri, db)
        cluster.up()
        holder = {"system": GradeSystem(uri)}
        try:
            results["gbk+events"] = run_form(
                cluster, gbk_roster, [file_upload(p) for p in gbk_uploads] +
                [event_upload(holder, p) for p in sample_uploads()[-EVENT_UPLOADS:]])
            yield cluster, db, holder["system"], results
        finally:
            holder["system"].close()
            cluster.down()


@pytest.mark.parametrize("form", ["xlsx", "gbk+events"])
def test_every_form_gives_exactly_what_the_utf8_csv_gives(forms, form):
    *_, results = forms
    assert results["csv"]["warnings"], "the baseline produced warnings"
    for key in COMPARED:
        assert results[form][key] == results["csv"][key], key


def test_released_batches_are_traced_like_uploads(forms):
    cluster, *_ = forms
    out = cluster.aq("trace", f"GS-{sample_uploads()[-1].stem}").stdout
    assert "grades.records_stored" in out and "warnings.changed" in out and "settled" in out


# --- bad input: rejected whole, every bad row named, nothing stored anywhere ---------------------------------------
HEADER = "学号,姓名,学年学期,课程代码,课程名称,学分,课程性质,考试性质,成绩,任课教师,开课学院"
GOOD = "210101001,杨建明,2024-2025-1,ZZ01,测试课程,2.0,必修,正常考试,80,某老师,"


def _row(**cells):
    values = dict(zip(HEADER.split(","), GOOD.split(",")))
    values.update(cells)
    return ",".join(values.values())


def _csv(*lines, encoding="utf-8"):
    return ("\n".join((HEADER,) + lines) + "\n").encode(encoding)


def _formula_workbook(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["2024-2025学年第一学期成绩单"])
    ws.append(HEADER.split(","))
    ws.append(GOOD.split(","))
    ws.append(_row(课程代码="ZZ02").split(","))
    ws["I4"] = "=60+10"
    path = tmp_path / "formula.xlsx"
    wb.save(path)
    return path.read_bytes()


BAD_FILES = {
    # name: (bytes or builder, what the report must say: (row, text) pairs)
    "empty.csv": (b"", [(None, "empty")]),
    "header-only.csv": (_csv(), [(None, "no data rows")]),
    "no-header.csv": ("张三,李四,王五\n1,2,3\n".encode(), [(None, "no recognisable header")]),
    "binary.csv": (bytes(range(256)) * 40, [(None, "binary")]),
    "garbage.csv": (bytes(range(1, 32)) * 50, [(None, "garbled")]),
    "damaged-utf8.csv": (_csv(GOOD).replace("杨建明".encode(), b"\xff\xfe\xfd"), [(2, "damaged bytes")]),
    # UTF-8 once read as Latin-1 and saved again: it decodes, to garbage ("å­¦å·" for 学号)
    "mojibake.csv": (_csv(GOOD).decode("utf-8").encode("utf-8").decode("latin-1").encode("utf-8"),
                     [(None, "garbled")]),
    # a Japanese export (Shift-JIS): decodes as GB18030 without error, to nonsense column names
    "shift-jis.csv": (_csv(GOOD).decode("utf-8").encode("shift_jis", errors="replace"),
                      [(None, "encoding that cannot be recognised")]),
    "rows.csv": (_csv(_row(学号="999999999"), _row(课程代码="ZZ02", 姓名="张冠李"), _row(课程代码="ZZ03", 学分="25"),
                      _row(课程代码="ZZ04", 成绩="101"), _row(课程代码="ZZ05", 课程性质="核心"),
                      _row(课程代码="ZZ06", 考试性质="期中"), _row(课程代码="ZZ07", 学年学期="2024秋"),
                      _row(课程代码="ZZ08", 成绩="70"), _row(课程代码="ZZ08", 成绩="75")),
                 [(2, "no student with this id"), (3, "does not match the roster"), (4, "between 0.5 and 20"),
                  (5, "between 0 and 100"), (6, "unknown course type"), (7, "unknown exam type"),
                  (8, "not a recognisable semester"), (9, "same"), (10, "same")]),
}


def _counts(db_template: str) -> dict:
    """Rows in every table of every service's database."""
    counts = {}
    for service in config.SERVICES:
        engine = create_engine(db_template.replace("{service}", service).replace("postgresql://", "postgresql+psycopg2://"))
        try:
            meta = MetaData()
            meta.reflect(engine)
            with engine.connect() as conn:
                for table in meta.sorted_tables:
                    counts[f"{service}.{table.name}"] = conn.execute(select(func.count()).select_from(table)).scalar()
        finally:
            engine.dispose()
    return counts


def test_bad_files_are_rejected_whole_naming_every_bad_row_and_leave_no_trace(forms, tmp_path):
    cluster, db, *_ = forms
    files = dict(BAD_FILES)
    files["formula.xlsx"] = (_formula_workbook(tmp_path), [(4, "formula")])
    data = (SAMPLE / "xlsx" / "uploads" / "01-2021-2022-1-regular.xlsx").read_bytes()
    files["truncated.xlsx"] = (data[:len(data) // 2], [(None, "damaged")])
    before = _counts(db)
    for name, (content, expected) in files.items():
        path = tmp_path / name
        path.write_bytes(content)
        result = cluster.aq("grades", "upload", str(path), check=False)
        assert result.returncode == 1, (name, result.stdout, result.stderr)
        assert "nothing was stored" in result.stderr and "Traceback" not in result.stderr, name
        for row, text in expected:
            where = (f"row {row},", f"row {row}:") if row else ("",)
            assert any(any(w in line for w in where) and text in line for line in result.stderr.splitlines()), \
                (name, row, text, result.stderr)
        assert "第" in result.stderr or "文件" in result.stderr          # and in Chinese
    assert _counts(db) == before


def test_a_huge_file_is_refused_by_its_size(forms, tmp_path):
    cluster, db, *_ = forms
    path = tmp_path / "huge.csv"
    with open(path, "wb") as f:
        f.write(HEADER.encode() + b"\n")
        line = (GOOD + "\n").encode()
        f.write(line * (60 * 2**20 // len(line)))
    before = _counts(db)
    result = cluster.aq("grades", "upload", str(path), check=False)
    assert result.returncode == 1 and "too large" in result.stderr and "Traceback" not in result.stderr
    assert _counts(db) == before


def test_an_invalid_released_batch_is_parked_with_its_report_and_its_publisher_told(forms):
    cluster, db, system, _ = forms
    records = released_records(sample_uploads()[0])[:3]
    records[1]["score"] = 130
    records[2]["student_id"] = "999999999"
    before = _counts(db)
    system.release("GS-BAD-1", records)
    reply = system.reply("GS-BAD-1")
    assert reply["type"] == "grades.results_rejected"
    assert [(p["row"], p["column"]) for p in reply["data"]["problems"]] == [(2, "score"), (3, "student_id")]
    assert "0 到 100" in reply["data"]["report"] and "between 0 and 100" in reply["data"]["report"]
    parked = wait_for(lambda: [p for p in cluster.json("dlq", "list") if p["correlation_id"] == "GS-BAD-1"],
                      message="the rejected batch in aq.parked")
    assert "130" in parked[0]["error"] and parked[0]["attempts"] == 1
    after = _counts(db)
    changed = {k: (before[k], after[k]) for k in after if after[k] != before.get(k)}
    # what grades keeps of a rejected batch: the reply in its outbox and the mark that it was told
    assert set(changed) <= {"grades.outbox", "grades.processed_events"}, changed


# --- corrections ---------------------------------------------------------------------------------------------------
ROSTER_FILES = {
    "staff.csv": "工号,姓名,角色,负责范围,邮箱,手机\nT9001,纠正班主任,班主任,测试1901,t9001@college.example.edu.cn,13800009001\n"
                 "C9019,纠正辅导员,辅导员,2019,c9019@college.example.edu.cn,13800009002\n"
                 "D9001,纠正系主任,系主任,测试工程,d9001@college.example.edu.cn,13800009003\n",
    "classes.csv": "班级,专业,年级,班主任工号\n测试1901,测试工程,2019,T9001\n",
    "students.csv": "学号,姓名,班级,学生邮箱,学生手机,家长姓名,家长关系,家长手机,家长邮箱,学籍状态\n"
                    "190101001,纠正同学,测试1901,s190101001@stu.example.edu.cn,13900009001,纠正家长,父亲,13900009002,"
                    "p190101001@family.example.com,在读\n",
}


def _grades(tmp_path, name, rows):
    path = tmp_path / name
    path.write_text(HEADER + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_a_makeup_score_corrected_from_55_to_65_lifts_the_warning_with_notices_and_tasks(forms, tmp_path):
    cluster, *_ = forms
    for name, text in ROSTER_FILES.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    cluster.aq("roster", "import", *(str(tmp_path / n) for n in ROSTER_FILES))
    student, sem = "190101001", "2019-2020-1"
    base = f"{student},纠正同学,{sem},"
    regular = _grades(tmp_path, "regular.csv", [base + "K01,力学,4.0,必修,正常考试,40,某老师,",
                                                base + "K02,热学,4.0,必修,正常考试,50,某老师,"])
    makeup = _grades(tmp_path, "makeup.csv", [base + "K01,力学,4.0,必修,补考,55,某老师,"])
    corrected = _grades(tmp_path, "makeup-corrected.csv", [base + "K01,力学,4.0,必修,补考,65,某老师,"])

    def changes(upload_id):
        with cluster.rpc() as rpc:
            return [(c["kind"], c["old_level"], c["new_level"]) for c in rpc.call("warnings", "trace", upload_id)["changes"]
                    if c["student_id"] == student]

    assert changes(cluster.upload(regular)) == [("issued", "none", "yellow")]    # 8 failed credits this semester
    assert changes(cluster.upload(makeup)) == []                                 # 55 is still a fail
    result = cluster.aq("grades", "upload", str(corrected), "--wait", "--by", "教务员王老师")
    assert "0 new, 1 corrected" in result.stderr
    correction_id = result.stdout.strip().splitlines()[0]
    assert changes(correction_id) == [("lifted", "yellow", "none")]

    with cluster.rpc() as rpc:
        [lift] = [c for c in rpc.call("warnings", "trace", correction_id)["changes"] if c["student_id"] == student]
        notices = [n for n in rpc.call("notification", "list_notices") if n["cause"] == lift["change_id"]]
        tasks = [t for t in rpc.call("advising", "list_tasks", None, "all") if t["student_id"] == student]
    assert sorted((n["recipient_kind"], n["channel"]) for n in notices) == sorted(
        [("student", "in_app"), ("student", "email"), ("guardian", "email"), ("head_teacher", "in_app"),
         ("head_teacher", "email")])
    [talk] = [t for t in tasks if t["kind"] == "talk"]
    assert (talk["assignee"], talk["status"], talk["note"]) == ("T9001", "open", "warning lifted")

    history = cluster.json("grades", "history", student, "K01")
    [record] = [r for r in history if r["exam_type"] == "makeup"]
    assert (record["score"], record["first_score"]) == ("65", "55")
    [corr] = record["corrections"]
    assert (corr["old"], corr["new"], corr["upload_id"], corr["changed_by"]) == (
        {"score": "55"}, {"score": "65"}, correction_id, "教务员王老师")
    text = cluster.aq("grades", "history", student).stdout
    assert "score: '55' -> '65'" in text and correction_id in text and "教务员王老师" in text
