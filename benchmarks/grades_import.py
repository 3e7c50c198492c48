"""How fast the grades service stores a large grades file, and how much memory it needs (issue 3).

    .venv/bin/python benchmarks/grades_import.py                      # 9,000 students ≈ 300,000 rows, PostgreSQL
    .venv/bin/python benchmarks/grades_import.py --students 3000 --database sqlite

A synthetic college is generated with demo/generator.py (one grades file of every row). A fresh child process then
does exactly what the grades service does for `aq grades upload` of that file, minus the broker: decode the base64
payload, validate every row streaming into the spool, and store + announce it in one unit of work
(services/grades/handlers.store_upload: inserts, corrections check, outbox batches). The roster lookup is answered
from the generated roster. CPU seconds are the child's (validate, store + announce) and its PostgreSQL backend's. Peak memory is the child's maximum resident set size (it includes Python and
every imported library). Results go to benchmarks/results/grades_import.{json,md}.
"""
from __future__ import annotations

import argparse
import base64
import json
import multiprocessing
import os
import platform
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
RESULTS = REPO / "benchmarks" / "results"


def _child(path: str, names: dict, url: str, queue) -> None:
    from services.grades import handlers, tables
    from services.grades.domain.rows import check_grade_file, grade_table
    from services.grades.spool import Spool
    from shared.db import engine_for
    from shared.migrations import upgrade
    from shared.messaging.unit_of_work import UnitOfWork
    import hashlib

    upgrade("grades", url)
    engine = engine_for("grades", url)
    with engine.connect() as conn:                            # the pool's connection, opened before the clock
        conn.exec_driver_sql("SELECT 1")
    database = url.rsplit("/", 1)[1]
    payload = base64.b64encode(Path(path).read_bytes()).decode("ascii")     # what the RPC carries
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    backend_cpu = _backend_cpu(database)
    started, started_cpu = time.perf_counter(), time.process_time()
    data = base64.b64decode(payload)
    del payload
    filename = Path(path).name
    open_table = lambda: grade_table(filename, data)          # noqa: E731
    with Spool() as spool:
        problems = check_grade_file(open_table, lambda ids: {sid: names[sid] for sid in ids if sid in names},
                                    spool.extend)
        assert not problems, problems[:3]
        validated, validated_cpu = time.perf_counter(), time.process_time()
        upload_id = handlers.new_upload_id()
        with UnitOfWork(engine, "grades", tables.MESSAGING, correlation_id=upload_id) as uow:
            summary = handlers.store_upload(uow, upload_id, filename, hashlib.sha256(data).hexdigest(), "bench",
                                            spool)
    stored, stored_cpu = time.perf_counter(), time.process_time()
    queue.put({"rows": summary["rows"], "new": summary["new"], "batches": summary["batches"],
               "validate_seconds": round(validated - started, 2), "store_seconds": round(stored - validated, 2),
               "total_seconds": round(stored - started, 2),
               "validate_cpu_seconds": round(validated_cpu - started_cpu, 2),
               "store_cpu_seconds": round(stored_cpu - validated_cpu, 2),
               "postgres_cpu_seconds": round(_backend_cpu(database) - backend_cpu, 2),
               "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
               "rss_before_upload_mb": round(baseline / 1024, 1)})


def _backend_cpu(database: str) -> float:
    """CPU seconds used so far by the PostgreSQL backends serving ``database`` (0 on SQLite)."""
    from benchmarks.probes import database_backends, process_cpu_seconds
    return sum(process_cpu_seconds(pid) or 0.0 for pid in database_backends(database))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=9000, help="9000 students ≈ 300,000 grade rows")
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--pg", default="postgresql+psycopg2://postgres@127.0.0.1:5432/",
                        help="PostgreSQL server; a scratch database is created and dropped")
    args = parser.parse_args()

    from demo.generator import generate_college, write_college
    work = Path(tempfile.mkdtemp(prefix="aq-bench-"))
    college = generate_college(args.students)
    paths = write_college(college, work, single_file=True)
    [grades_file] = paths["uploads"]
    names = {s["学号"]: s["姓名"] for s in college.students}
    del college

    scratch = None
    if args.database == "sqlite":
        url = f"sqlite:///{work / 'grades.sqlite'}"
    else:
        from sqlalchemy import create_engine
        scratch = f"aq_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(args.pg.rstrip("/") + "/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{scratch}"')
        url = args.pg.rstrip("/") + "/" + scratch
    try:
        ctx = multiprocessing.get_context("spawn")
        queue = ctx.Queue()
        child = ctx.Process(target=_child, args=(str(grades_file), names, url, queue))
        child.start()
        result = queue.get(timeout=1800)
        child.join()
    finally:
        if scratch:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
            admin.dispose()

    result.update(rows_per_second=round(result["rows"] / result["total_seconds"]),
                  stored_rows_per_second=round(result["rows"] / result["store_seconds"]),
                  file_mb=round(grades_file.stat().st_size / 2**20, 1), students=args.students,
                  database=args.database, cpus=os.cpu_count(), python=platform.python_version(),
                  command=f".venv/bin/python benchmarks/grades_import.py --students {args.students} "
                          f"--database {args.database}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "grades_import.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / "grades_import.md").write_text(
        "# Grades import benchmark\n\n"
        f"Reproduce: `{result['command']}`\n\n"
        "| rows | file MB | database | validate s | store+announce s | total s | rows/s (total) | rows/s (store) "
        "| CPU s: validate | CPU s: store+announce | CPU s: PostgreSQL | peak RSS MB |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|\n"
        f"| {result['rows']} | {result['file_mb']} | {result['database']} | {result['validate_seconds']} "
        f"| {result['store_seconds']} | {result['total_seconds']} | {result['rows_per_second']} "
        f"| {result['stored_rows_per_second']} | {result['validate_cpu_seconds']} | {result['store_cpu_seconds']} "
        f"| {result['postgres_cpu_seconds']} | {result['peak_rss_mb']} |\n\n"
        f"{result['cpus']} CPUs, Python {result['python']}; machine shared with other work while it ran.\n"
        "Peak RSS is the whole process (Python, SQLAlchemy, marshmallow, openpyxl included).\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
