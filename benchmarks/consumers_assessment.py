"""Assessment's consumer of an upload alone: ``grades.records_stored`` batches (take_records) and then
``grades.upload_completed`` (the flags decided), in one process on a fresh PostgreSQL database, without the broker.

    .venv/bin/python -m benchmarks.consumers_assessment                  # 3,000 students, ~104k records, 106 batches
    .venv/bin/python -m benchmarks.consumers_assessment --students 300 --repeat 3

The batches are the ones benchmarks/consumers.py builds (the generated college's single grades file, validated by
the grades service's rules, cut by student as grades announces them), handed over already decoded, each in a real
unit of work as AssessmentService does (the roster's answer for the majors is given). Reported: process CPU and the
CPU of the database's PostgreSQL backends, for the batches (``records_stored``, also per batch) and for the
completion that decides the flags (``upload_completed``), and a digest of what
the handlers wrote (times left out), so a speed change can show that it changed no result. With ``--repeat`` each
run gets a fresh database and the lowest CPU figures are kept (the machine is shared).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

from benchmarks.consumers import backend_cpu, batches_of, college_records, drop_databases, envelopes, people_of
from contracts.envelope import make_envelope
from shared.db import dispose_all, engine_for, normalise_url
from shared.messaging.unit_of_work import UnitOfWork
from shared.migrations import upgrade

HOME_COLLEGE = "机电工程学院"                       # the service's default
# Columns whose values are new on every run; everything else must be identical.
VOLATILE = {"decided_at", "updated_at", "processed_at", "duration_ms", "event_id", "created_at", "published_at",
            "body", "correlation_id", "causation_id", "seq", "upload_id"}
DIGESTED = ("grade_records", "upload_progress", "upload_courses", "course_flags", "processed_events", "outbox")


def run(url: str, prefix: str, events: list[dict], completed: dict, majors_of: dict[str, str],
        threshold: float) -> dict:
    from services.assessment import handlers, tables
    engine = engine_for("assessment", url)
    with engine.connect() as conn:                    # the pool's connection is open before the clock starts
        conn.execute(text("SELECT 1"))

    def handled(event, handler, work):
        with UnitOfWork(engine, "assessment", tables.MESSAGING, handling=event, handler=handler) as uow:
            work(uow, event["data"])

    def decide(uow, upload_id):
        # AssessmentService._decide, the roster's answer given
        handlers.students_of(uow.conn, handlers.offerings_to_decide(uow.conn, upload_id))
        handlers.decide_flags(uow, upload_id, majors_of, threshold, HOME_COLLEGE)

    def on_records_stored(uow, data):
        if handlers.take_records(uow, data["upload_id"], data["records"]):
            decide(uow, data["upload_id"])

    def on_upload_completed(uow, data):
        if handlers.upload_completed(uow, data["upload_id"], data["batches"]):
            decide(uow, data["upload_id"])

    cpu, backends, wall = time.process_time(), backend_cpu(prefix), time.perf_counter()
    for event in events:
        handled(event, "on_records_stored", on_records_stored)
    stored = time.process_time(), backend_cpu(prefix), time.perf_counter()
    handled(completed, "on_upload_completed", on_upload_completed)
    done = time.process_time(), backend_cpu(prefix), time.perf_counter()
    engine.dispose()
    batches = {"process_cpu_s": stored[0] - cpu, "postgres_cpu_s": stored[1] - backends, "wall_s": stored[2] - wall}
    decision = {"process_cpu_s": done[0] - stored[0], "postgres_cpu_s": done[1] - stored[1],
                "wall_s": done[2] - stored[2]}
    return {"records_stored": batches, "upload_completed": decision}


def digest(url: str) -> dict[str, str]:
    engine = create_engine(normalise_url(url))
    found = {}
    with engine.connect() as conn:
        for table in DIGESTED:
            rows = conn.execute(text(f'SELECT * FROM "{table}"')).mappings().all()
            if table == "outbox":
                values = sorted(_outbox_view(r) for r in rows)
            else:
                values = sorted(json.dumps({k: v for k, v in r.items() if k not in VOLATILE}, default=str,
                                           sort_keys=True, ensure_ascii=False) for r in rows)
            found[table] = f"{len(rows)} rows {hashlib.sha256(''.join(values).encode()).hexdigest()[:16]}"
    engine.dispose()
    return found


def _outbox_view(row) -> str:
    data = json.loads(row["body"])["data"]
    data.pop("upload_id", None)
    return json.dumps({"type": row["type"], "data": data}, sort_keys=True, ensure_ascii=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=1, help="runs, each on a fresh database; the lowest CPU is kept")
    parser.add_argument("--threshold", type=float, default=0.15,
                        help="failure-rate threshold (the service's default 0.15 flags no course of the generated "
                             "college; 0.05 flags some, so the digest covers the flags too)")
    parser.add_argument("--record", type=Path, help="write the figures to this JSON file")
    args = parser.parse_args()
    records, college = college_records(args.students)
    batches = batches_of(records)
    majors_of = {sid: p.major for sid, p in people_of(college).items() if p.major}
    best: dict = {}
    digests = set()
    for _ in range(args.repeat):
        upload_id = "U-bench-assessment"              # the same on every run: it is part of what is digested
        events = envelopes(batches, upload_id)
        completed = make_envelope("grades.upload_completed", 1, "grades", {
            "upload_id": upload_id, "filename": "all-grades.csv", "uploaded_by": "bench", "rows": len(records),
            "new": len(records), "corrected": 0, "unchanged": 0, "batches": len(events)},
            correlation_id=upload_id, causation_id=upload_id)
        prefix = "aqbench_" + uuid.uuid4().hex[:8]
        url = f"postgresql://postgres@127.0.0.1:5432/{prefix}_assessment"
        try:
            upgrade("assessment", url)
            figures = run(url, prefix, events, completed, majors_of, args.threshold)
            digests.add(json.dumps(digest(url), sort_keys=True))
        finally:
            dispose_all()
            drop_databases(prefix)
        for part, values in figures.items():
            for key, value in values.items():
                best.setdefault(part, {})[key] = min(best.get(part, {}).get(key, value), value)
    if len(digests) != 1:
        raise SystemExit(f"runs wrote different results: {digests}")
    for part in best.values():
        part["total_cpu_s"] = part["process_cpu_s"] + part["postgres_cpu_s"]
    best["records_stored"]["per_batch_ms"] = best["records_stored"]["total_cpu_s"] / len(batches) * 1000
    result = {"records": len(records), "batches": len(batches), "runs": args.repeat, "threshold": args.threshold,
              **{part: {k: round(v, 3 if k != "per_batch_ms" else 1) for k, v in values.items()}
                 for part, values in best.items()},
              "digest": json.loads(digests.pop())}
    print(json.dumps(result, indent=1, ensure_ascii=False))
    if args.record:
        args.record.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
