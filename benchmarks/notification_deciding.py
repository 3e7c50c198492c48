"""The notification service's deciding side alone: the warning changes of one upload and the tasks advising makes of
them, fed to the handlers as the service does (``warnings.changed`` in events of 500 changes, then
``advising.tasks_changed`` in events of ~36 tasks, each followed by the urgent task notices ``_deliver`` flushes),
against a scratch PostgreSQL database. Nothing is delivered. Reports the CPU per notice decided of this process and
of its PostgreSQL backend.

    .venv/bin/python -m benchmarks.notification_deciding                   # 1,026 changes, ~2,500 tasks, …
    .venv/bin/python -m benchmarks.notification_deciding --profile
    .venv/bin/python -m benchmarks.notification_deciding --dump /tmp/a.json  # every notice's content, to compare

The college is made up but shaped like the cascade's (benchmarks/cascade.py: 3,000 students, 1,026 of them warned,
yellow / orange / red, 1-2 reasons of 2-6 courses each; every 40th student and their guardian prefer English). A
second upload a week later escalates, lifts and downgrades 300 of the warnings (superseding and withdrawing
acknowledgement requests, closing tasks), and the next morning's digests go out. Ids and the clock are fixed, so
two runs decide the same notices; ``--dump`` writes them with the acknowledgement links' tokens checked and replaced
by a placeholder (a link names its notice), so the dumps of two versions of the code can be compared with ``cmp``.

Prints one JSON line; --profile adds cProfile's top functions; --record writes
benchmarks/results/notification_deciding.json.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import sys
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, select

from benchmarks.probes import database_backends, process_cpu_seconds

PG = "postgresql://postgres@127.0.0.1:5432/"
RESULTS = Path(__file__).resolve().parent / "results"
NOW = datetime(2024, 3, 5, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
SEMESTER = "2023-2024-1"
MAJORS = ["机械设计制造及其自动化", "电气工程及其自动化", "计算机科学与技术", "土木工程", "工商管理", "会计学",
          "英语", "数学与应用数学"]
COURSES = [(f"C{n:04d}", name, credits) for n, (name, credits) in enumerate(
    [("高等数学A(上)", 5.0), ("线性代数", 3.0), ("大学物理", 4.0), ("工程制图", 2.5), ("C语言程序设计", 3.0),
     ("概率论与数理统计", 3.0), ("电路原理", 4.0), ("机械原理", 3.5), ("材料力学", 4.0), ("大学英语", 2.0),
     ("理论力学", 3.0), ("数据结构", 3.5)])]
SCORES = ["45", "52", "38", "缺考", "不及格", "57", "0"]
TASKS_PER_EVENT = 36


def college(students: int, warned: int, rng: random.Random):
    """(warning changes, people by student, tasks advising makes of them)."""
    changes, people, tasks = [], {}, []
    levels = ["yellow"] * 45 + ["orange"] * 30 + ["red"] * 25
    for n in rng.sample(range(students), warned):
        sid = f"21{n // 1000:02d}{n % 1000:05d}"
        major = MAJORS[n % len(MAJORS)]
        klass = f"{major[:2]}21{n % 12 + 1:02d}"
        people[sid] = {"student_id": sid, "name": f"学生{n}", "class_name": klass, "major": major,
                       "head_teacher_id": f"T{n % 96:04d}", "counselor_id": f"C{n % 4:04d}",
                       "department_head_id": f"D{MAJORS.index(major):04d}", "vice_dean_id": "V0001"}
        level = rng.choice(levels)
        reasons = []
        for rule in rng.sample(["unresolved_failed_credits", "semester_failed_credits"], rng.choice([1, 1, 2])):
            failed = rng.sample(COURSES, rng.randint(2, 6))
            reasons.append({"rule": rule, "level": level, "measure": sum(c[2] for c in failed),
                            "threshold": 10.0, "comparison": ">=",
                            "courses": [{"course_code": code, "course_name": name, "credits": credits,
                                         "result": rng.choice(SCORES)} for code, name, credits in failed]})
        change_id = f"W-{uuid.UUID(int=rng.getrandbits(128)).hex[:16]}"
        changes.append({"change_id": change_id, "student_id": sid, "semester": SEMESTER, "kind": "issued",
                        "old_level": "none", "new_level": level, "escalated": False, "reasons": reasons,
                        "policy_version": "1"})
        duties = {"yellow": [("talk", "head_teacher_id")],
                  "orange": [("talk", "head_teacher_id"), ("parent_contact", "head_teacher_id"),
                             ("counselor_talk", "counselor_id")],
                  "red": [("talk", "head_teacher_id"), ("parent_contact", "head_teacher_id"),
                          ("counselor_talk", "counselor_id"), ("integrity_talk", "counselor_id")]}[level]
        for kind, role in duties:
            tasks.append({"task_id": f"T-{uuid.UUID(int=rng.getrandbits(128)).hex[:12]}", "kind": kind,
                          "assignee": people[sid][role], "student_id": sid, "course_code": None,
                          "semester": SEMESTER, "due": "2024-03-19", "status": "open",
                          "cause": f"{kind}:{change_id}"})
    return changes, people, tasks


def correction(changes: list[dict], people: dict, tasks: list[dict], rng: random.Random):
    """A second upload a week later: some orange warnings escalate to red, some warnings are lifted and some red ones
    come down to orange (new acknowledgement requests supersede open ones, lifts withdraw them); with the tasks
    advising makes of them and closes."""
    by_level: dict[str, list[dict]] = {}
    for change in changes:
        by_level.setdefault(change["new_level"], []).append(change)
    later, new_tasks = [], []
    moves = ([(c, "escalated", "red") for c in by_level["orange"][:150]]
             + [(c, "lifted", "none") for c in by_level["yellow"][:60] + by_level["red"][:40]]
             + [(c, "downgraded", "orange") for c in by_level["red"][40:90]])
    for change, kind, level in moves:
        change_id = f"W-{uuid.UUID(int=rng.getrandbits(128)).hex[:16]}"
        later.append({**change, "change_id": change_id, "kind": kind, "old_level": change["new_level"],
                      "new_level": level, "reasons": [] if kind == "lifted" else change["reasons"]})
        sid = change["student_id"]
        if kind == "escalated":
            for duty, role in (("counselor_talk", "counselor_id"), ("integrity_talk", "counselor_id")):
                new_tasks.append({"task_id": f"T-{uuid.UUID(int=rng.getrandbits(128)).hex[:12]}", "kind": duty,
                                  "assignee": people[sid][role], "student_id": sid, "course_code": None,
                                  "semester": SEMESTER, "due": "2024-03-26", "status": "open",
                                  "cause": f"{duty}:{change_id}"})
        elif kind == "lifted":
            new_tasks += [{**t, "status": "done"} for t in tasks if t["student_id"] == sid]
    return later, new_tasks


def events(kind: str, key: str, items: list, size: int, rng: random.Random, correlation_id: str) -> list[dict]:
    return [{"id": str(uuid.UUID(int=rng.getrandbits(128))), "type": kind, "version": 1,
             "correlation_id": correlation_id, "data": {key: items[start:start + size]}}
            for start in range(0, len(items), size)]


def dump(engine, settings) -> dict:
    """Every decided notice, acknowledgement request and task item, in a stable order and without random ids."""
    from services.notification import acknowledgements, tables
    from services.notification.domain.ack_links import tokens_in
    signer = acknowledgements.signer(settings.acknowledgement)
    out = {"notices": [], "acknowledgements": [], "task_items": []}
    with engine.connect() as conn:
        notices = [dict(r) for r in conn.execute(select(tables.notices)).mappings()]
        for notice in sorted(notices, key=lambda r: (r["cause"], r["recipient_id"], r["channel"])):
            for field in ("text", "html", "short_text"):
                for token in tokens_in(notice[field]):
                    assert signer.read(token).notice_id == notice["notice_id"], "a link names another notice"
                    notice[field] = notice[field].replace(token, "<token>")
            notice.pop("notice_id")
            out["notices"].append(notice)
        acks = {r["ack_id"]: dict(r) for r in conn.execute(select(tables.acknowledgements)).mappings()}
        names = {ack_id: f"{a['cause']}/{a['recipient_id']}" for ack_id, a in acks.items()}
        for ack in sorted(acks.values(), key=lambda a: (a["cause"], a["recipient_id"])):
            for ack_id, name in names.items():
                ack["closed_note"] = ack["closed_note"] and ack["closed_note"].replace(ack_id, name)
            ack.pop("ack_id")
            out["acknowledgements"].append(ack)
        out["task_items"] = sorted((dict(r) for r in conn.execute(select(tables.task_items)).mappings()),
                                   key=lambda r: r["item_key"])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=3000)
    parser.add_argument("--warned", type=int, default=1026)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--dump", help="write every decided notice (without random ids) to this JSON file")
    parser.add_argument("--record", action="store_true", help="write benchmarks/results/notification_deciding.json")
    args = parser.parse_args()

    from services.notification import handlers, settings as settings_module, tables
    from services.notification.channels import load_channels
    from shared.db import dispose_all, engine_for
    from shared.messaging.store import StoreAccess
    from shared.migrations import upgrade

    rng = random.Random(20240305)
    changes, people, tasks = college(args.students, args.warned, rng)
    later, later_tasks = correction(changes, people, tasks, rng)
    uploads = [(NOW, events("warnings.changed", "changes", changes, 500, rng, "U-bench"),
                events("advising.tasks_changed", "tasks", tasks, TASKS_PER_EVENT, rng, "U-bench")),
               (NOW + timedelta(days=7), events("warnings.changed", "changes", later, 500, rng, "U-bench-2"),
                events("advising.tasks_changed", "tasks", later_tasks, TASKS_PER_EVENT, rng, "U-bench-2"))]
    morning = NOW.replace(hour=8, minute=5) + timedelta(days=8)     # the digests of the tasks that were not urgent
    database = f"aq_bench_decide_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG.replace("postgresql://", "postgresql+psycopg2://") + "postgres",
                          isolation_level="AUTOCOMMIT")
    try:
        url = PG + database
        upgrade("notification", url)
        engine = engine_for("notification", url)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AQ_NOTICE", "AQ_ACK", "AQ_CHANNEL"))}
        settings = settings_module.load(env)
        channels = load_channels(settings.channels)
        warnings_store = StoreAccess(engine, "notification", tables.MESSAGING, "on_warnings_changed")
        tasks_store = StoreAccess(engine, "notification", tables.MESSAGING, "on_tasks_changed")
        with engine.begin() as conn:        # a few people who asked for English (and the pool's connection)
            for sid in sorted(people)[::40]:
                handlers.set_preference(conn, sid, None, "en", NOW)
                handlers.set_preference(conn, f"guardian:{sid}", "email", "en", NOW)
        _fixed_ids(rng)
        profile = cProfile.Profile() if args.profile else None
        backends = lambda: {pid: process_cpu_seconds(pid) or 0.0 for pid in database_backends(database)}  # noqa: E731
        database_cpu = backends()
        started, cpu = time.perf_counter(), time.process_time()
        if profile:
            profile.enable()
        made = {"warnings": 0, "tasks": 0, "task_notices": 0}
        for now, warning_events, task_events in uploads:
            for event in warning_events:
                students = sorted({c["student_id"] for c in event["data"]["changes"]})
                answer = {sid: handlers.people_for_student(people[sid]) for sid in students}
                with warnings_store.handling(event) as uow:
                    made["warnings"] += handlers.on_warning_changes(uow, event, answer, settings, channels, now)
                made["task_notices"] += handlers.flush_task_notices(engine, settings, channels, now)
            for event in task_events:
                with tasks_store.handling(event) as uow:
                    made["tasks"] += handlers.on_tasks_changed(uow, event, settings, now)
                made["task_notices"] += handlers.flush_task_notices(engine, settings, channels, now)
        made["task_notices"] += handlers.flush_task_notices(engine, settings, channels, morning)
        if profile:
            profile.disable()
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        database_cpu = sum(v - database_cpu.get(pid, 0.0) for pid, v in backends().items())
        notices = made["warnings"] + made["task_notices"]
        result = {"warning_changes": len(changes) + len(later), "tasks": len(tasks) + len(later_tasks),
                  "events": sum(len(w) + len(t) for _, w, t in uploads),
                  "notices": notices, "made": made, "wall_seconds": round(wall, 2), "cpu_seconds": round(cpu, 2),
                  "cpu_ms_per_notice": round(cpu / notices * 1000, 3),
                  "postgresql_cpu_seconds": round(database_cpu, 2),
                  "postgresql_cpu_ms_per_notice": round(database_cpu / notices * 1000, 3),
                  "load_average": os.getloadavg(),
                  "command": ".venv/bin/python -m benchmarks.notification_deciding " + " ".join(sys.argv[1:])}
        print(json.dumps(result))
        if args.record:
            RESULTS.mkdir(parents=True, exist_ok=True)
            (RESULTS / "notification_deciding.json").write_text(json.dumps(result, indent=2) + "\n")
        if args.dump:
            Path(args.dump).write_text(json.dumps(dump(engine, settings), ensure_ascii=False, indent=1, default=str))
        if profile:
            out = io.StringIO()
            pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(30)
            pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(40)
            print(out.getvalue())
    finally:
        dispose_all()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.dispose()


def _fixed_ids(rng: random.Random) -> None:
    """Notice and request ids from the benchmark's random numbers: two runs store the same rows."""
    uuid.uuid4 = lambda: uuid.UUID(int=rng.getrandbits(128), version=4)


if __name__ == "__main__":
    main()
