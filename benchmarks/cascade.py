"""The whole cascade under load: a generated college through every service, each its own OS process,
against the local PostgreSQL and RabbitMQ.

    .venv/bin/python -m benchmarks.cascade                       # 3,000 students, about 100,000 grade rows
    .venv/bin/python -m benchmarks.cascade --students 9000       # about 300,000 rows
    .venv/bin/python -m benchmarks.cascade --replicas warnings=2,notification=2

Prints and records (benchmarks/results/cascade-<rows>.json and .md): time from upload to the last notice and
task recorded, rows/s, each service's handler time, peak memory per process, messages on the bus, and the
latency of a 1-row correction from upload to its notice. It uses its own vhost and databases and removes them.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import create_engine, text

from aq_cli.tracking import collect_ledgers, wait_until_settled
from demo.generator import GRADE_HEADER, generate_college, write_college
from shared.rpc_client import RpcClient

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
PG_ADMIN = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Environment:
    """A vhost, databases and a data directory of the benchmark's own."""

    def __init__(self, database: str, replicas: str):
        self.vhost = "aq-bench-" + uuid.uuid4().hex[:8]
        self.prefix = "aqb_" + uuid.uuid4().hex[:8]
        self.home = Path(tempfile.mkdtemp(prefix="aq-bench-"))
        self.amqp = f"amqp://guest:guest@127.0.0.1:5672/{self.vhost}"
        self.replicas = replicas
        self.env = {**os.environ, "AQ_HOME": str(self.home), "AQ_AMQP_URI": self.amqp,
                    "AQ_SMTP_URL": f"smtp://127.0.0.1:{free_port()}", "AQ_MAILSINK": "1",
                    "PYTHONWARNINGS": "ignore::DeprecationWarning"}
        if database == "postgres":
            self.env["AQ_DATABASE_URL"] = f"postgresql://postgres@127.0.0.1:5432/{self.prefix}_{{service}}"
        else:
            self.env.pop("AQ_DATABASE_URL", None)

    def __enter__(self):
        for args in (["add_vhost", self.vhost], ["set_permissions", "-p", self.vhost, "guest", ".*", ".*", ".*"]):
            subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True)
        self.aq("up", "--detach", *(["--replicas", self.replicas] if self.replicas else []))
        return self

    def __exit__(self, *exc):
        self.aq("down", check=False)
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", self.vhost], capture_output=True)
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in conn.execute(text("SELECT datname FROM pg_database WHERE datname LIKE :p"),
                                     {"p": self.prefix + "_%"}).scalars().all():
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    def aq(self, *args, check=True):
        result = subprocess.run([sys.executable, "-m", "aq_cli.main", *args], env=self.env, cwd=REPO,
                                capture_output=True, text=True)
        if check and result.returncode:
            raise SystemExit(f"aq {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def rpc(self) -> RpcClient:
        return RpcClient(self.amqp, timeout=600)

    def peak_memory_mb(self) -> dict[str, float]:
        peaks = {}
        for pid_file in sorted((self.home / "run").glob("*.pid")):
            try:
                pid = int(pid_file.read_text())
                status = Path(f"/proc/{pid}/status").read_text()
            except (OSError, ValueError):
                continue
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    peaks[pid_file.stem] = round(int(line.split()[1]) / 1024, 1)
        return peaks


def upload(rpc: RpcClient, path: Path) -> tuple[dict, float]:
    payload = base64.b64encode(path.read_bytes()).decode("ascii")
    started = time.perf_counter()
    answer = rpc.call("grades", "upload", path.name, payload, "benchmark")
    if answer["status"] != "accepted":
        raise SystemExit(answer["report"][:2000])
    return answer, time.perf_counter() - started


def service_times(ledgers: dict) -> dict[str, dict]:
    times = {}
    for service, ledger in ledgers.items():
        handled = [c for c in ledger["consumed"] if c.get("duration_ms") is not None]
        by_handler = defaultdict(float)
        for c in handled:
            by_handler[c["handler"]] += c["duration_ms"]
        times[service] = {"events_handled": len(handled), "handler_seconds": round(sum(by_handler.values()) / 1000, 3),
                          "by_handler": {h: round(ms / 1000, 3) for h, ms in by_handler.items()}}
    return times


def correction_candidate(rpc: RpcClient, rows_by_key: dict) -> list | None:
    """A warned student's failing course whose repair alone takes the warning away (so a notice must follow)."""
    for warning in rpc.call("warnings", "list_warnings", None, "active"):
        reasons = warning["reasons"]
        if warning["escalated"] or not reasons or any(r["comparison"] != ">=" for r in reasons):
            continue
        for course in reasons[0]["courses"]:
            if all(r["measure"] - course["credits"] < r["threshold"] and
                   any(c["course_code"] == course["course_code"] for c in r["courses"]) for r in reasons):
                row = rows_by_key.get((warning["student_id"], warning["semester"], course["course_code"], "正常考试"))
                if row:
                    return row
    return None


def measure_correction(env: Environment, rpc: RpcClient, row: list, folder: Path) -> dict:
    fixed = list(row)
    fixed[8] = "88"
    path = folder / "correction.csv"
    path.write_text(",".join(GRADE_HEADER) + "\n" + ",".join(str(c) for c in fixed) + "\n", encoding="utf-8")
    answer, _ = upload(rpc, path)
    started = time.perf_counter() - _
    notice_at = None
    while time.perf_counter() - started < 60:
        notices = rpc.call("notification", "trace", answer["upload_id"]).get("notices", [])
        if any(n["status"] == "sent" for n in notices):
            notice_at = time.perf_counter()
            break
        time.sleep(0.01)
    state, _ = wait_until_settled(rpc, answer["upload_id"], timeout=60)
    return {"student_id": row[0], "course_code": row[3], "old_score": row[8], "new_score": "88",
            "seconds_to_first_notice": round(notice_at - started, 3) if notice_at else None,
            "seconds_to_settled": round(time.perf_counter() - started, 3), "settled": state.settled}


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem = next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal"))
    versions = {}
    for name, cmd in (("postgresql", ["psql", "--version"]), ("rabbitmq", ["rabbitmqctl", "-q", "version"])):
        try:
            versions[name] = subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            versions[name] = "?"
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(int(mem) / 1024 / 1024, 1),
            "python": platform.python_version(), **versions}


def main() -> None:
    parser = argparse.ArgumentParser(description="the whole cascade under load")
    parser.add_argument("--students", type=int, default=3000)
    parser.add_argument("--database", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--replicas", default="", help="e.g. warnings=2,notification=2")
    parser.add_argument("--no-record", action="store_true", help="print only; do not write benchmarks/results")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="aq-college-"))
    college = generate_college(args.students)
    paths = write_college(college, work, single_file=True)
    rows_by_key = {(r[0], r[2], r[3], r[7]): r for _, rows in college.uploads for r in rows}
    print(f"college: {len(college.students)} students, {college.grade_rows} grade rows "
          f"({paths['uploads'][0].stat().st_size / 1e6:.1f} MB CSV)")

    with Environment(args.database, args.replicas) as env, env.rpc() as rpc:
        roster = rpc.call("roster", "import_files",
                          [{"filename": p.name, "content_b64": base64.b64encode(p.read_bytes()).decode()}
                           for p in paths["roster"]], "benchmark")
        wait_until_settled(rpc, roster["import_id"], timeout=300)

        started = time.perf_counter()
        answer, rpc_seconds = upload(rpc, paths["uploads"][0])
        state, ledgers = wait_until_settled(rpc, answer["upload_id"], timeout=900, poll=0.05)
        total = time.perf_counter() - started
        if not state.settled:
            raise SystemExit(f"did not settle: {state.waiting[:5]} {state.stuck[:3]}")
        ledgers = collect_ledgers(rpc, answer["upload_id"], timeout=120)
        events = Counter(e["type"] for ledger in ledgers.values() for e in ledger["emitted"])
        notices = ledgers["notification"].get("notices", [])
        tasks = ledgers["advising"].get("tasks", [])
        changes = ledgers["warnings"].get("changes", [])
        upload_memory = env.peak_memory_mb()

        candidate = correction_candidate(rpc, rows_by_key)
        correction = measure_correction(env, rpc, candidate, work) if candidate else {"note": "no candidate found"}

    result = {
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": "python -m benchmarks.cascade " + " ".join(sys.argv[1:]),
        "machine": machine(), "database": args.database, "replicas": args.replicas or "none",
        "students": len(college.students), "grade_rows": college.grade_rows,
        "upload": {"seconds_to_settled": round(total, 3), "rows_per_second": round(college.grade_rows / total),
                   "grades_rpc_seconds": round(rpc_seconds, 3), "batches": answer["batches"]},
        "produced": {"warning_changes": len(changes), "notices": len(notices),
                     "notices_sent": sum(1 for n in notices if n["status"] == "sent"), "tasks": len(tasks)},
        "messages_on_the_bus": dict(events), "service_time": service_times(ledgers),
        "peak_memory_mb": upload_memory, "correction": correction,
    }
    print(json.dumps(result, ensure_ascii=False, indent=2))
    if not args.no_record:
        record(result)


def record(result: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = f"cascade-{result['grade_rows'] // 1000}k-{result['database']}" + \
           (f"-{result['replicas'].replace('=', '').replace(',', '-')}" if result["replicas"] != "none" else "")
    (RESULTS / f"{stem}.json").write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    m, u = result["machine"], result["upload"]
    lines = [f"# Cascade benchmark: {result['grade_rows']:,} grade rows, {result['students']:,} students",
             "", f"`{result['command']}` — {result['when']}, {result['database']}, replicas: {result['replicas']}",
             f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB; Python {m['python']}; "
             f"{m['postgresql']}; RabbitMQ {m['rabbitmq']}", "",
             "| measure | value |", "|---|---|",
             f"| upload → last notice and task recorded | {u['seconds_to_settled']} s |",
             f"| rows per second | {u['rows_per_second']:,} |",
             f"| grades RPC (validate + store + outbox) | {u['grades_rpc_seconds']} s |",
             f"| warning changes / notices sent / tasks | {result['produced']['warning_changes']} / "
             f"{result['produced']['notices_sent']} / {result['produced']['tasks']} |",
             f"| events on the bus | {sum(result['messages_on_the_bus'].values())} "
             f"({', '.join(f'{k} {v}' for k, v in result['messages_on_the_bus'].items())}) |",
             f"| 1-row correction → first notice sent | {result['correction'].get('seconds_to_first_notice')} s |",
             "", "| service | handler time (s) | events handled | peak memory (MB) |", "|---|---|---|---|"]
    for service, t in result["service_time"].items():
        peaks = [v for k, v in result["peak_memory_mb"].items() if k.split("@")[0] == service]
        lines.append(f"| {service} | {t['handler_seconds']} | {t['events_handled']} | {max(peaks) if peaks else '?'} |")
    (RESULTS / f"{stem}.md").write_text("\n".join(lines) + "\n")
    print(f"recorded in {RESULTS / stem}.json and .md")


if __name__ == "__main__":
    main()
