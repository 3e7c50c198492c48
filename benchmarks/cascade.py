"""The whole cascade under load: a generated college through every service, each its own OS process,
against the local PostgreSQL and RabbitMQ.

    .venv/bin/python -m benchmarks.cascade                       # 3,000 students, about 100,000 grade rows
    .venv/bin/python -m benchmarks.cascade --students 9000       # about 300,000 rows
    .venv/bin/python -m benchmarks.cascade --replicas warnings=2,notification=2
    .venv/bin/python -m benchmarks.cascade --profile             # + py-spy profiles of every service

Prints and records (benchmarks/results/cascade-<rows>k-<database>[-replicas].json and .md): time from upload to
the last notice and task recorded, rows/s, CPU seconds and handler time per service (and of each service's
PostgreSQL backends), peak memory per process, messages and bytes on the bus, the machine's load, and the latency
of a 1-row correction from upload to its notice. It uses its own vhost and databases and removes them.
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

import yaml
from sqlalchemy import create_engine, text

from aq_cli.tracking import collect_ledgers, settlement
from benchmarks.probes import Databases, Profiler, cpu_snapshot, cpu_used, phases, summarise_profile
from demo.generator import GRADE_HEADER, generate_college, write_college
from services.warnings.domain.policy import DEFAULT_POLICY_PATH
from shared.messaging.parking import list_parked
from shared.rpc_client import RpcClient

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
PG_ADMIN = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
TARGETS = {"cascade_100k_seconds": 10, "cascade_100k_aim_seconds": 3, "upload_300k_seconds": 30,
           "memory_mb": 500, "correction_seconds": 1}


def policy_without_review(directory: Path) -> Path:
    """The default policy with review before release off: computed warnings are announced at once."""
    policy = yaml.safe_load(DEFAULT_POLICY_PATH.read_text(encoding="utf-8"))
    policy["review"] = {"required": False}
    path = directory / "policy-without-review.yml"
    path.write_text(yaml.safe_dump(policy, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Environment:
    """A vhost, databases and a data directory of the benchmark's own."""

    def __init__(self, database: str, replicas: str, extra_env: dict[str, str], review: bool = True):
        self.vhost = "aq-bench-" + uuid.uuid4().hex[:8]
        self.prefix = "aqb_" + uuid.uuid4().hex[:8]
        self.home = Path(tempfile.mkdtemp(prefix="aq-bench-"))
        self.amqp = f"amqp://guest:guest@127.0.0.1:5672/{self.vhost}"
        self.replicas = replicas
        self.env = {**os.environ, "AQ_HOME": str(self.home), "AQ_AMQP_URI": self.amqp,
                    "AQ_SMTP_URL": f"smtp://127.0.0.1:{free_port()}", "AQ_MAILSINK": "1",
                    "PYTHONWARNINGS": "ignore::DeprecationWarning", **extra_env}
        # Review before release (docs/warnings.md) holds the computed warnings until staff confirm them: the
        # benchmark confirms like staff do and times that part on its own; --no-review runs the policy with review
        # off instead (warnings announced at once). --env AQ_WARNING_POLICY=… runs another policy.
        if not review:
            self.env.setdefault("AQ_WARNING_POLICY", str(policy_without_review(self.home)))
        if database == "postgres":
            self.database_url = f"postgresql://postgres@127.0.0.1:5432/{self.prefix}_{{service}}"
            self.env["AQ_DATABASE_URL"] = self.database_url
        else:
            self.env.pop("AQ_DATABASE_URL", None)
            self.database_url = f"sqlite:///{self.home}/db/{{service}}.sqlite"

    def __enter__(self):
        for args in (["add_vhost", self.vhost], ["set_permissions", "-p", self.vhost, "guest", ".*", ".*", ".*"]):
            subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True)
        try:
            self.aq("up", "--detach", *(["--replicas", self.replicas] if self.replicas else []))
        except BaseException:           # a service that did not start: stop the others, drop what was made
            self.__exit__(None, None, None)
            raise
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

    def pids(self) -> dict[str, int]:
        found = {}
        for pid_file in sorted((self.home / "run").glob("*.pid")):
            try:
                found[pid_file.stem] = int(pid_file.read_text())
            except (OSError, ValueError):
                continue
        return found

    def peak_memory_mb(self) -> dict[str, float]:
        peaks = {}
        for name, pid in self.pids().items():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    peaks[name] = round(int(line.split()[1]) / 1024, 1)
        return peaks


def upload(rpc: RpcClient, path: Path) -> tuple[dict, datetime, float]:
    """(the grades service's answer, when the upload started, how long the RPC took)."""
    payload = base64.b64encode(path.read_bytes()).decode("ascii")
    started_at = datetime.now(timezone.utc)
    started = time.perf_counter()
    answer = rpc.call("grades", "upload", path.name, payload, "benchmark")
    if answer["status"] != "accepted":
        raise SystemExit(answer["report"][:2000])
    return answer, started_at, time.perf_counter() - started


def wait_settled(env: Environment, databases: Databases, upload_id: str, timeout: float, poll: float = 0.5):
    """Until every event of the upload was published and handled by all its subscribers and no notice is pending
    (aq_cli.tracking's rule), reading the ledgers from the databases. The times reported come from the databases'
    own timestamps, so how soon this notices the end changes none of them; it polls gently because it shares the
    machine (and the services' PostgreSQL) with what it measures."""
    deadline = time.monotonic() + timeout
    polls = 0
    while True:
        state = settlement(databases.ledgers(upload_id, pending=False), [], upload_id)
        if not state.waiting:
            state = settlement(databases.ledgers(upload_id), [], upload_id)
            if state.settled:
                return state
        if time.monotonic() > deadline:
            return state
        polls += 1
        if polls % 10 == 0:
            stuck = settlement(databases.ledgers(upload_id), list_parked(env.amqp), upload_id)
            if stuck.stuck:
                return stuck
        time.sleep(poll)


def wait_evaluated(databases: Databases, upload_id: str, timeout: float, poll: float = 0.1) -> bool:
    """Until warnings has evaluated every record batch the upload announced: the review list is whole, which is when
    academic-affairs staff can confirm it (the service refuses a confirmation before). Advising's and assessment's
    bookkeeping of the same batches may still run; the settlement after the confirmation waits for them."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if databases.evaluated(upload_id):
            return True
        time.sleep(poll)
    return False


def confirm_pending(rpc: RpcClient, correlation_id: str) -> tuple[list[int], int, datetime | None, float]:
    """Confirm the upload's pending warning lists as academic-affairs staff do (`aq warnings confirm`): (batch ids,
    changes confirmed, when the first confirmation started, seconds the confirmations took)."""
    batches = [b for b in rpc.call("warnings", "list_pending", None, None, False)
               if b["correlation_id"] == correlation_id and b["status"] == "pending"]
    if not batches:
        return [], 0, None, 0.0
    started_at, started = datetime.now(timezone.utc), time.perf_counter()
    for batch in batches:
        answer = rpc.call("warnings", "confirm_batch", batch["batch_id"], "benchmark")
        if answer.get("status") == "rejected":
            raise SystemExit(f"confirming batch {batch['batch_id']} was refused: {answer['message']}")
    return ([b["batch_id"] for b in batches], sum(len(b["changes"]) for b in batches), started_at,
            time.perf_counter() - started)


def seconds_after(start: datetime, moment: datetime | None) -> float | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return round((moment - start).total_seconds(), 3)


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


def first_notice(databases: Databases, correlation_id: str, kinds: tuple[str, ...] | None = None,
                 timeout: float = 60.0) -> datetime | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sent = databases.first_notice_sent(correlation_id, kinds)
        if sent is not None:
            return sent
        time.sleep(0.01)
    return None


def measure_correction(env: Environment, rpc: RpcClient, databases: Databases, row: list, folder: Path) -> dict:
    """A 1-row correction that lifts a warning: upload → its first notice (with review before release that is the
    academic-affairs notice that a list waits), and, after confirming, confirmation → the student's notice."""
    fixed = list(row)
    fixed[8] = "88"
    path = folder / "correction.csv"
    path.write_text(",".join(GRADE_HEADER) + "\n" + ",".join(str(c) for c in fixed) + "\n", encoding="utf-8")
    answer, started_at, rpc_seconds = upload(rpc, path)
    upload_id = answer["upload_id"]
    noticed = first_notice(databases, upload_id)
    state = wait_settled(env, databases, upload_id, timeout=60, poll=0.05)
    settled_at = max(m for m in databases.last_effects(upload_id).values() if m)
    result = {"student_id": row[0], "course_code": row[3], "old_score": row[8], "new_score": "88",
              "grades_rpc_seconds": round(rpc_seconds, 3),
              "seconds_to_first_notice": seconds_after(started_at, noticed),
              "first_notice_kind": databases.notice_kinds(upload_id)[:1],
              "seconds_to_settled": seconds_after(started_at, settled_at), "settled": state.settled}
    batches, _, confirmed_at, _ = confirm_pending(rpc, upload_id)
    if batches:
        told = first_notice(databases, upload_id, STUDENT_NOTICE_KINDS)
        wait_settled(env, databases, upload_id, timeout=60, poll=0.05)
        result.update(review_batches=batches,
                      seconds_from_confirmation_to_student_notice=seconds_after(confirmed_at, told))
    return result


STUDENT_NOTICE_KINDS = ("student", "guardian")      # recipient kinds of the warning notices themselves


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


def load_average() -> list[float]:
    return [float(v) for v in Path("/proc/loadavg").read_text().split()[:3]]


def run(args) -> dict:
    work = Path(tempfile.mkdtemp(prefix="aq-college-"))
    college = generate_college(args.students)
    paths = write_college(college, work, single_file=True)
    rows_by_key = {(r[0], r[2], r[3], r[7]): r for _, rows in college.uploads for r in rows}
    print(f"college: {len(college.students)} students, {college.grade_rows} grade rows "
          f"({paths['uploads'][0].stat().st_size / 1e6:.1f} MB CSV)", flush=True)
    extra_env = dict(item.split("=", 1) for item in args.env)

    with Environment(args.database, args.replicas, extra_env, review=not args.no_review) as env, env.rpc() as rpc:
        databases = Databases(env.database_url)
        try:
            roster = rpc.call("roster", "import_files",
                              [{"filename": p.name, "content_b64": base64.b64encode(p.read_bytes()).decode()}
                               for p in paths["roster"]], "benchmark")
            wait_settled(env, databases, roster["import_id"], timeout=300)
            pids = env.pids()
            load_before = load_average()
            before = cpu_snapshot(env.pids(), env.prefix)
            # Profiles of a run that is not recorded stay out of the repository.
            profiles_in = Path(tempfile.mkdtemp(prefix="aq-profile-")) if args.no_record else RESULTS
            profile_dir = profiles_in / f"profile-{college.grade_rows // 1000}k" if args.profile else None
            profiler = Profiler(profile_dir, pids) if profile_dir else None
            if profiler:
                profiler.__enter__()
            try:
                answer, started_at, rpc_seconds = upload(rpc, paths["uploads"][0])
                marks = [("start", before), ("the grades RPC (parse, validate, store, outbox)",
                                             cpu_snapshot(pids, env.prefix))]
                print(f"upload accepted after {rpc_seconds:.1f} s; waiting for the cascade", flush=True)
                if not wait_evaluated(databases, answer["upload_id"], timeout=1800):
                    state = wait_settled(env, databases, answer["upload_id"], timeout=1)
                    raise SystemExit(f"warnings did not evaluate the upload: {state.waiting[:5]} {state.stuck[:3]}")
                marks.append(("its batches consumed until every warning is evaluated",
                              cpu_snapshot(pids, env.prefix)))
                evaluated = databases.last_effects(answer["upload_id"])["warnings: last event handled"]
                batches, confirmed, confirmed_at, confirm_seconds = confirm_pending(rpc, answer["upload_id"])
                marks.append(("the review confirmed (the benchmark as staff)", cpu_snapshot(pids, env.prefix)))
                if batches:
                    print(f"confirmed {confirmed} warning changes in batch(es) {batches}; waiting for notices "
                          "and tasks", flush=True)
                state = wait_settled(env, databases, answer["upload_id"], timeout=1800)
            finally:
                if profiler:
                    profiler.__exit__(None, None, None)
            after = cpu_snapshot(env.pids(), env.prefix)
            marks.append(("released: notices, tasks, bookkeeping until settled", after))
            load_after = load_average()
            if not state.settled:
                raise SystemExit(f"did not settle: {state.waiting[:5]} {state.stuck[:3]}")
            # Peak memory now: the trace RPC below answers with every notice of the upload, which is the benchmark's
            # report, not the cascade's work.
            upload_memory = env.peak_memory_mb()
            moments = databases.last_effects(answer["upload_id"])
            bus_bytes = databases.bus_bytes(answer["upload_id"])
            ledgers = collect_ledgers(rpc, answer["upload_id"], timeout=300)
            candidate = correction_candidate(rpc, rows_by_key)
            correction = (measure_correction(env, rpc, databases, candidate, work) if candidate
                          else {"note": "no candidate found"})
        finally:
            databases.dispose()

    events = Counter(e["type"] for ledger in ledgers.values() for e in ledger["emitted"])
    notices = ledgers["notification"].get("notices", [])
    tasks = ledgers["advising"].get("tasks", [])
    changes = ledgers["warnings"].get("changes", [])
    timeline = {k: seconds_after(started_at, v) for k, v in sorted(moments.items(), key=lambda kv: str(kv[1]))}
    last = max(v for v in timeline.values() if v is not None)
    evaluated_after = seconds_after(started_at, evaluated)
    review = ({"batches": batches, "changes_confirmed": confirmed,
               "confirm_rpc_seconds": round(confirm_seconds, 3),
               "confirmation_to_last_effect_seconds": seconds_after(confirmed_at, max(m for m in moments.values()
                                                                                       if m))}
              if batches else {"note": "the policy in force does not ask for review: changes were announced at once"})
    result = {
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join([".venv/bin/python -m benchmarks.cascade", *sys.argv[1:]]),
        "machine": machine(), "load_average_before": load_before, "load_average_after": load_after,
        "database": args.database, "replicas": args.replicas or "none", "settings": extra_env,
        "students": len(college.students), "grade_rows": college.grade_rows, "targets": TARGETS,
        "upload": {"seconds_to_last_effect": last, "rows_per_second": round(college.grade_rows / last),
                   "grades_rpc_seconds": round(rpc_seconds, 3), "batches": answer["batches"],
                   "seconds_to_evaluated": evaluated_after},
        "review": review,
        "timeline_seconds": timeline,
        "produced": {"warning_changes": len(changes), "notices": len(notices),
                     "notices_sent": sum(1 for n in notices if n["status"] == "sent"),
                     "notices_by_channel": dict(Counter(n["channel"] for n in notices)), "tasks": len(tasks)},
        "messages_on_the_bus": dict(events), "bytes_on_the_bus": bus_bytes,
        "cpu_seconds": cpu_used(before, after), "phases": phases(marks), "service_time": service_times(ledgers),
        "peak_memory_mb": upload_memory, "correction": correction,
    }
    if profile_dir:
        result["profiles"] = {name: summarise_profile(profile_dir / f"{name}.txt")
                              for name in pids if (profile_dir / f"{name}.txt").exists()}
        result["profile_folder"] = (str(profile_dir.relative_to(REPO)) if profile_dir.is_relative_to(REPO)
                                    else str(profile_dir))
        if profile_dir.is_relative_to(REPO):      # the raw stacks are kept compressed (speedscope reads .txt)
            for raw in profile_dir.glob("*.txt"):
                subprocess.run(["gzip", "-f", str(raw)], check=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description="the whole cascade under load")
    parser.add_argument("--students", type=int, default=3000)
    parser.add_argument("--database", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--replicas", default="", help="e.g. warnings=2,notification=2")
    parser.add_argument("--env", action="append", default=[], metavar="AQ_X=value",
                        help="a setting for every service (repeatable), e.g. --env AQ_MAX_WORKERS=4")
    parser.add_argument("--no-review", action="store_true",
                        help="the default policy with review before release off (default: confirm like staff do)")
    parser.add_argument("--profile", action="store_true",
                        help="sample every service with py-spy during the upload (benchmarks/results/profile-*)")
    parser.add_argument("--no-record", action="store_true", help="print only; do not write benchmarks/results")
    args = parser.parse_args()
    result = run(args)
    print(json.dumps(result, ensure_ascii=False, indent=2))
    print(summary(result))
    if not args.no_record:
        record(result)


def summary(result: dict) -> str:
    u, c, m = result["upload"], result["correction"], result["peak_memory_mb"]
    rows = result["grade_rows"]
    lines = [f"{rows:,} rows: upload -> evaluated {u['seconds_to_evaluated']} s; "
             f"confirmation -> last notice and task {result['review'].get('confirmation_to_last_effect_seconds')} s; "
             f"upload -> last notice and task {u['seconds_to_last_effect']} s "
             f"({u['rows_per_second']:,} rows/s; grades RPC {u['grades_rpc_seconds']} s); "
             f"peak memory {max(m.values()) if m else '?'} MB; 1-row correction -> notice "
             f"{c.get('seconds_to_first_notice')} s; load average {result['load_average_before']} -> "
             f"{result['load_average_after']}"]
    return "\n".join(lines)


def record(result: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = f"cascade-{result['grade_rows'] // 1000}k-{result['database']}" + \
           ("-no-review" if "note" in result["review"] else "") + ("-profiled" if result.get("profiles") else "") + \
           "".join(f"-{k.removeprefix('AQ_').lower()}{v}" for k, v in sorted(result["settings"].items())) + \
           (f"-{result['replicas'].replace('=', '').replace(',', '-')}" if result["replicas"] != "none" else "")
    (RESULTS / f"{stem}.json").write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    (RESULTS / f"{stem}.md").write_text(markdown(result))
    print(f"recorded in {RESULTS / stem}.json and .md")


def markdown(result: dict) -> str:
    m, u, p = result["machine"], result["upload"], result["produced"]
    cpu = result["cpu_seconds"]
    lines = [f"# Cascade benchmark: {result['grade_rows']:,} grade rows, {result['students']:,} students",
             "", f"Reproduce: `{result['command']}` ({result['when']}, {result['database']}, "
                 f"replicas: {result['replicas']}{', settings: ' + str(result['settings']) if result['settings'] else ''})",
             "", f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB; Python {m['python']}; "
                 f"{m['postgresql']}; RabbitMQ {m['rabbitmq']}. Load average before/after: "
                 f"{result['load_average_before']} / {result['load_average_after']}; the whole machine was "
                 f"{cpu['machine_busy_percent']}% busy during the cascade (other work on the machine included).",
             "", "| measure | value |", "|---|---|",
             f"| upload → last notice and task recorded (confirming the review at once) "
             f"| {u['seconds_to_last_effect']} s |",
             f"| … of which upload → every record stored and every warning evaluated (lists pending review) "
             f"| {u['seconds_to_evaluated']} s |",
             f"| … of which staff confirmation → last notice and task | "
             f"{result['review'].get('confirmation_to_last_effect_seconds', '(no review)')} s |",
             f"| rows per second (whole cascade) | {u['rows_per_second']:,} |",
             f"| grades RPC (parse + validate + store + outbox) | {u['grades_rpc_seconds']} s |",
             f"| warning changes / notices sent / tasks | {p['warning_changes']} / {p['notices_sent']} "
             f"({', '.join(f'{k} {v}' for k, v in p['notices_by_channel'].items())}) / {p['tasks']} |",
             f"| events on the bus | {sum(result['messages_on_the_bus'].values())} "
             f"({', '.join(f'{k} {v}' for k, v in result['messages_on_the_bus'].items())}), "
             f"{result['bytes_on_the_bus'] / 1e6:.1f} MB |",
             f"| 1-row correction → first notice sent | {result['correction'].get('seconds_to_first_notice')} s "
             f"({', '.join(result['correction'].get('first_notice_kind') or [])}; settled after "
             f"{result['correction'].get('seconds_to_settled')} s) |",
             f"| … its confirmation → the student's notice | "
             f"{result['correction'].get('seconds_from_confirmation_to_student_notice', '(no review)')} s |",
             "", "Timeline (seconds after the upload started):", "",
             *[f"- {k}: {v}" for k, v in result["timeline_seconds"].items() if v is not None],
             "", "| service | CPU s (process) | CPU s (its PostgreSQL) | handler time s (sum over workers) "
                 "| events handled | peak memory MB |", "|---|---|---|---|---|---|"]
    for service, t in result["service_time"].items():
        peaks = [v for k, v in result["peak_memory_mb"].items() if k.split("@")[0] == service]
        process = sum(v for k, v in cpu["service_processes"].items() if k.split("@")[0] == service)
        lines.append(f"| {service} | {process:.1f} | {cpu['postgresql_backends'].get(service, 0):.1f} "
                     f"| {t['handler_seconds']} | {t['events_handled']} | {max(peaks) if peaks else '?'} |")
    if "mailsink" in cpu["service_processes"]:
        lines.append(f"| (mail sink: the local SMTP server) | {cpu['service_processes']['mailsink']:.1f} | | | "
                     f"| {result['peak_memory_mb'].get('mailsink', '?')} |")
    if "benchmark" in cpu["service_processes"]:
        lines.append(f"| (the benchmark itself: watching the databases for the cascade to settle) | "
                     f"{cpu['service_processes']['benchmark']:.1f} | | | | |")
    if "rabbitmq" in cpu["service_processes"]:
        lines.append(f"| (RabbitMQ, shared with other work) | {cpu['service_processes']['rabbitmq']:.1f} | | | | |")
    if result.get("phases"):
        lines += ["", "Phases (how many of the machine's cores were busy; CPU seconds of the processes that used 0.1 s or more):", "",
                  "| phase | wall s | cores busy | CPU s by process |", "|---|---|---|---|"]
        lines += [f"| {ph['phase']} | {ph['wall_seconds']} | {ph['cores_busy']} | "
                  f"{', '.join(f'{k} {v}' for k, v in ph['cpu_seconds'].items())} |" for ph in result["phases"]]
    for service, prof in (result.get("profiles") or {}).items():
        if not prof.get("samples"):
            continue
        lines += ["", f"Profile of {service} ({prof['samples']} samples; py-spy, busy samples only): "
                      "most time inside (inclusive %):", ""]
        lines += [f"- {f}: {pct}%" for f, pct in prof["inclusive_percent"]]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
