"""The consumers of ``grades.records_stored`` alone: warnings (take_records) and advising (on_records_stored's
handlers), each fed an upload's batches in one process on a fresh PostgreSQL database, without the broker.

    .venv/bin/python -m benchmarks.consumers                      # 3,000 students, ~104k records, ~106 batches
    .venv/bin/python -m benchmarks.consumers --students 300 --only warnings
    .venv/bin/python -m benchmarks.consumers --repeat 3 --again --split   # least disturbed of 3; more paths

It generates the benchmark college (demo.generator, as benchmarks/cascade.py does), validates its single grades
file with the grades service's own validation, cuts the records into batches the way grades announces them (by
student, at most 1,000 records, never splitting a student) and hands each batch, already decoded, to the handler
inside a real unit of work. It reports process CPU and the CPU of the database's PostgreSQL backends, per service
and per batch, and a digest of what the handlers wrote (volatile ids and times left out), so a speed change can
show that it changed no result.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import create_engine, text

from benchmarks.probes import database_backends, process_cpu_seconds
from contracts.envelope import make_envelope
from demo.generator import GRADE_HEADER, generate_college
from services.grades.domain.rows import check_grade_rows, grade_table
from shared.db import dispose_all, engine_for, normalise_url
from shared.messaging.unit_of_work import UnitOfWork
from shared.migrations import upgrade

ADMIN_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
BATCH_SIZE = 1000             # records per event, as grades announces them by default (AQ_RECORDS_PER_EVENT)


# --- the input: an upload's records_stored batches -----------------------------------------------------------------

def college_records(students: int) -> tuple[list[dict], object]:
    """The generated college's grade records, validated by the grades service's rules."""
    college = generate_college(students)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(GRADE_HEADER)
    writer.writerows(r for _, rows in college.uploads for r in rows)
    data = out.getvalue().encode()
    names = {s["学号"]: s["姓名"] for s in college.students}
    records: list[dict] = []
    problems = check_grade_rows(lambda: grade_table("all-grades.csv", data), names, records.append)
    if problems:
        raise SystemExit(f"the generated file does not validate: {problems[:3]}")
    return records, college


def batches_of(records: list[dict], size: int = BATCH_SIZE) -> list[list[dict]]:
    """As grades announces them: in key order, by student, at most ``size`` records unless one student has more;
    each record as StoredRecordSchema (new, no previous score) after a JSON round trip, as a consumer decodes it."""
    key = ("student_id", "semester", "course_code", "exam_type")
    by_student: dict[str, list[dict]] = {}
    for record in sorted(records, key=lambda r: tuple(r[k] for k in key)):
        by_student.setdefault(record["student_id"], []).append({**record, "change": "new", "previous_score": None})
    batches, current = [], []
    for student in sorted(by_student):
        rows = by_student[student]
        if current and len(current) + len(rows) > size:
            batches.append(current)
            current = []
        current.extend(rows)
    if current:
        batches.append(current)
    return [json.loads(json.dumps(b, ensure_ascii=False)) for b in batches]


def envelopes(batches: list[list[dict]], upload_id: str) -> list[dict]:
    return [make_envelope("grades.records_stored", 1, "grades", {"upload_id": upload_id, "batch": n, "records": b},
                          correlation_id=upload_id, causation_id=upload_id) for n, b in enumerate(batches, 1)]


def people_of(college) -> dict:
    """What the roster answers for responsibles(), for every student of the college (advising's cheating tasks)."""
    from services.advising.domain.tasks import Responsibles
    classes = {c["班级"]: c for c in college.classes}
    departments = {s["负责范围"]: s["工号"] for s in college.staff if s["角色"] == "系主任"}
    people = {}
    for s in college.students:
        cls = classes[s["班级"]]
        people[s["学号"]] = Responsibles(
            student_id=s["学号"], class_name=s["班级"], major=cls["专业"], cohort=cls["年级"],
            head_teacher_id=cls["班主任工号"], counselor_id="C" + cls["年级"],
            department_head_id=departments.get(cls["专业"]), vice_dean_id="V0001")
    return people


# --- running a consumer --------------------------------------------------------------------------------------------

def backend_cpu(prefix: str) -> float:
    return sum(process_cpu_seconds(pid) or 0.0 for pid in database_backends(prefix))


def feed(service: str, url: str, prefix: str, events: list[dict], handle) -> dict:
    """Every event through ``handle(uow, records)`` in a unit of work; CPU of this process and of the backends."""
    from importlib import import_module
    tables = import_module(f"services.{service}.tables")
    engine = engine_for(service, url)
    handler = "on_records_stored"
    # The pool's first connection is opened before the clock starts: connecting is not what is measured.
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    cpu, backends, wall = time.process_time(), backend_cpu(prefix), time.perf_counter()
    for event in events:
        with UnitOfWork(engine, service, tables.MESSAGING, handling=event, handler=handler) as uow:
            handle(uow, event["data"]["records"])
    cpu, backends, wall = (time.process_time() - cpu, backend_cpu(prefix) - backends, time.perf_counter() - wall)
    return {"process_cpu_s": round(cpu, 2), "postgres_cpu_s": round(backends, 2),
            "total_cpu_s": round(cpu + backends, 2), "wall_s": round(wall, 2),
            "per_batch_ms": round((cpu + backends) / len(events) * 1000, 1)}


def run_warnings(url, prefix, events, again):
    from services.warnings import handlers, release, tables
    from services.warnings.policy_store import PolicyBook
    book = PolicyBook()
    now = datetime(2025, 3, 1, tzinfo=timezone.utc)       # fixed: the digest must not depend on the clock

    def take(uow, records):
        handlers.take_records(uow, records, book, now)
    figures = feed("warnings", url, prefix, events, take)
    if again:
        # Staff confirm the list (its warnings are announced), then the same records arrive again in a new upload:
        # every standing is re-evaluated against announced warnings of the same level.
        engine = engine_for("warnings", url)
        with engine.connect() as conn:
            batch_ids = [b["batch_id"] for b in release.list_batches(conn)]
        for batch_id in batch_ids:
            with UnitOfWork(engine, "warnings", tables.MESSAGING, correlation_id=events[0]["correlation_id"]) as uow:
                release.confirm(uow, batch_id, "bench", book.current(uow.conn), now)
        figures["again"] = feed("warnings", url, prefix, again, take)
    return figures


def run_advising(url, prefix, events, people):
    from services.advising import handlers, list_handlers
    occurred_at = datetime(2025, 3, 1, tzinfo=timezone.utc)

    def handle(uow, records):
        # What AdvisingService.on_records_stored does inside its unit of work (the roster answer is given).
        cheating = handlers.cheating_students(records)
        handlers.on_cheating_records(uow, records, {s: people[s] for s in cheating}, occurred_at)
        list_handlers.record_results(uow, records, occurred_at)
    return feed("advising", url, prefix, events, handle)


# --- what the handlers wrote ----------------------------------------------------------------------------------------

# Columns whose values are new on every run (uuids, clocks, the upload id); everything else must be identical.
VOLATILE = {"change_id", "created_at", "processed_at", "duration_ms", "event_id", "body", "correlation_id",
            "causation_id", "task_id", "touched_at", "updated_at", "batch_id", "id", "published_at", "at"}
DIGESTED = {"warnings": ("grade_records", "warnings", "warning_changes", "release_batches", "outbox"),
            "advising": ("list_marks", "tasks", "task_history", "outbox")}


def digest(url: str, service: str) -> dict[str, str]:
    engine = create_engine(normalise_url(url))
    found = {}
    with engine.connect() as conn:
        if service == "advising":
            # What the counselor lists are built from, semester by semester (however the results are stored).
            from services.advising import list_handlers
            semesters = sorted(conn.execute(text("SELECT semester FROM list_marks")).scalars())
            lists = json.dumps([list_handlers.candidates(conn, s) for s in semesters], sort_keys=True,
                               ensure_ascii=False)
            found["list_candidates"] = f"{len(semesters)} semesters {hashlib.sha256(lists.encode()).hexdigest()[:16]}"
        for table in DIGESTED[service]:
            rows = conn.execute(text(f'SELECT * FROM "{table}"')).mappings().all()
            values = sorted(json.dumps({k: v for k, v in r.items() if k not in VOLATILE}, default=str,
                                       sort_keys=True, ensure_ascii=False) for r in rows)
            if table == "outbox":
                # An event's body holds ids and times; its type and data's shape are what must not change.
                values = sorted(_outbox_view(r) for r in rows)
            found[table] = f"{len(rows)} rows {hashlib.sha256(''.join(values).encode()).hexdigest()[:16]}"
    engine.dispose()
    return found


def _outbox_view(row) -> str:
    body = json.loads(row["body"])
    data = body["data"]
    for key in ("changes", "tasks"):
        for item in data[key] if isinstance(data.get(key), list) else ():
            for volatile in ("change_id", "task_id", "created_at"):
                item.pop(volatile, None)
    data.pop("batch_id", None)
    return json.dumps({"type": row["type"], "data": data}, sort_keys=True, ensure_ascii=False)


def drop_databases(prefix: str) -> None:
    dispose_all()
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in conn.execute(text("SELECT datname FROM pg_database WHERE datname LIKE :p"),
                                 {"p": prefix + "%"}).scalars():
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def run_once(service: str, events: list[dict], again: list[dict], college) -> dict:
    """One run on databases of its own, dropped afterwards."""
    prefix = "aqbench_" + uuid.uuid4().hex[:8]
    url = f"postgresql://postgres@127.0.0.1:5432/{prefix}_{service}"
    try:
        upgrade(service, url)
        figures = (run_warnings(url, prefix, events, again) if service == "warnings"
                   else run_advising(url, prefix, events, people_of(college)))
        figures["digest"] = digest(url, service)
        return figures
    finally:
        drop_databases(prefix)


def load_average() -> list[float]:
    return [float(v) for v in Path("/proc/loadavg").read_text().split()[:3]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=3000)
    parser.add_argument("--only", choices=("warnings", "advising"))
    parser.add_argument("--again", action="store_true",
                        help="warnings: confirm the list, then feed the same records as a second upload")
    parser.add_argument("--split", action="store_true", help="the regular exams and the make-ups as two uploads")
    parser.add_argument("--repeat", type=int, default=1, help="runs per service; the least disturbed is reported")
    parser.add_argument("--record", type=Path, help="write the figures to this JSON file")
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE,
                        help="records per event (grades' AQ_RECORDS_PER_EVENT)")
    args = parser.parse_args()
    records, college = college_records(args.students)
    if args.split:
        # Two uploads, as a college sends them: the regular exams, then the make-ups (which land on students and
        # semesters already stored).
        regular = [r for r in records if r["exam_type"] != "makeup"]
        makeups = [r for r in records if r["exam_type"] == "makeup"]
        events = (envelopes(batches_of(regular, args.batch_size), "U-bench-1a")
                  + envelopes(batches_of(makeups, args.batch_size), "U-bench-1b"))
        batches = None
    else:
        batches = batches_of(records, args.batch_size)
        events = envelopes(batches, "U-bench-1")
    again = envelopes(batches or batches_of(records, args.batch_size), "U-bench-2") if args.again else []
    print(f"{len(records)} records in {len(events)} batches", flush=True)
    result = {"records": len(records), "batches": len(events), "load_average": load_average()}
    for service in ("warnings", "advising"):
        if args.only and service != args.only:
            continue
        runs = [run_once(service, events, again, college) for _ in range(args.repeat)]
        if len({json.dumps(r["digest"], sort_keys=True) for r in runs}) != 1:
            raise SystemExit(f"{service}: the runs wrote different results: {[r['digest'] for r in runs]}")
        # The machine is shared: the least disturbed run is the best estimate of the cost.
        figures = min(runs, key=lambda r: r["total_cpu_s"])
        figures["all_totals_cpu_s"] = [r["total_cpu_s"] for r in runs]
        result[service] = figures
        print(service, json.dumps(figures, indent=1, ensure_ascii=False), flush=True)
    if args.record:
        args.record.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
