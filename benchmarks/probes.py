"""What the cascade benchmark measures besides the services' own answers: CPU time per process, the machine's
load, when the cascade's last effect was written (read from the services' databases), and sampling profiles.

The benchmark reads the services' databases directly (read-only, its own throw-away databases) instead of polling
the `trace` RPC: the trace of a 100,000-row upload lists thousands of notices, and asking for it every second
would load the very services being measured. The report at the end still comes from the RPCs.
"""
from __future__ import annotations

import importlib
import os
import shutil
import sys
import signal
import subprocess
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import create_engine, func, select

from shared import config
from shared.messaging.ledger import ledger

TICKS = os.sysconf("SC_CLK_TCK")


# --- CPU --------------------------------------------------------------------------------------------------------

def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds a process has used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS


def database_backends(prefix: str) -> dict[int, str]:
    """PostgreSQL backend processes serving the benchmark's databases: pid -> database."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if cmdline.startswith("postgres: ") and f" {prefix}" in cmdline:
            database = cmdline.split(f" {prefix}", 1)[1].split()[0].lstrip("_")
            found[int(entry.name)] = database
    return found


def machine_cpu() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


@dataclass
class CpuSnapshot:
    services: dict[str, float]
    backends: dict[int, tuple[str, float]]
    machine: tuple[float, float]
    at: float


def broker_pids() -> dict[str, int]:
    """The local RabbitMQ node's Erlang VM (shared with whatever else uses the broker)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "beam.smp":
                    found[f"rabbitmq-{entry.name}"] = int(entry.name)
            except OSError:
                continue
    return found


def cpu_snapshot(pids: dict[str, int], prefix: str) -> CpuSnapshot:
    # The benchmark itself (its polling shares the machine with what it measures) is reported beside the services.
    pids = {**pids, "benchmark": os.getpid()}
    services = {name: process_cpu_seconds(pid) for name, pid in {**pids, **broker_pids()}.items()}
    backends = {pid: (db, process_cpu_seconds(pid)) for pid, db in database_backends(prefix).items()}
    return CpuSnapshot({k: v for k, v in services.items() if v is not None},
                       {k: v for k, v in backends.items() if v[1] is not None}, machine_cpu(), time.monotonic())


def cpu_used(before: CpuSnapshot, after: CpuSnapshot) -> dict:
    """CPU seconds each service process and each service's PostgreSQL backends used between two snapshots, and
    how busy the whole machine was (other people's work included)."""
    services = {name.split("-")[0] if name.startswith("rabbitmq-") else name:
                round(after.services[name] - before.services.get(name, 0.0), 2) for name in after.services}
    database = Counter()
    for pid, (db, seconds) in after.backends.items():
        database[db] += seconds - before.backends.get(pid, (db, 0.0))[1]
    busy = after.machine[0] - before.machine[0]
    total = after.machine[1] - before.machine[1]
    return {"service_processes": services,
            "postgresql_backends": {db: round(s, 2) for db, s in sorted(database.items())},
            "machine_busy_percent": round(100 * busy / total, 1) if total else None,
            "wall_seconds": round(after.at - before.at, 2)}


def phases(marks: list[tuple[str, CpuSnapshot]]) -> list[dict]:
    """Between each two marks (name of the phase that ends there, snapshot): its wall seconds, how many of the
    machine's cores were busy on average (other work included), and the CPU seconds of each process that used
    a tenth of a second or more (a service's PostgreSQL backends as ``<service> (PostgreSQL)``), most first.
    It shows which part of a cascade keeps both cores busy and which waits on one process."""
    cores = os.cpu_count() or 1
    found = []
    for (_, before), (name, after) in zip(marks, marks[1:]):
        used = cpu_used(before, after)
        busy, total = (after.machine[0] - before.machine[0]), (after.machine[1] - before.machine[1])
        processes = {**used["service_processes"],
                     **{f"{db} (PostgreSQL)": s for db, s in used["postgresql_backends"].items()}}
        found.append({"phase": name, "wall_seconds": used["wall_seconds"],
                      "cores_busy": round(cores * busy / total, 2) if total else None,
                      "cpu_seconds": {k: v for k, v in sorted(processes.items(), key=lambda kv: -kv[1])
                                      if v >= 0.1}})
    return found


# --- the services' databases ------------------------------------------------------------------------------------

class Databases:
    """Read access to each service's database of one benchmark environment."""

    def __init__(self, url_template: str):
        self.engines = {s: create_engine(url_template.replace("{service}", s).replace("postgresql://",
                                                                                     "postgresql+psycopg2://"))
                        for s in config.SERVICES}
        self.tables = {s: importlib.import_module(f"services.{s}.tables") for s in config.SERVICES}

    def dispose(self) -> None:
        for engine in self.engines.values():
            engine.dispose()

    def ledgers(self, correlation_id: str, services: tuple[str, ...] | None = None,
                pending: bool = True) -> dict[str, dict]:
        """The same ledgers the `trace` RPC answers, without the details (notices, tasks…); ``pending``: with
        notification's count of deliveries still pending (it reads every notice of the upload: asked only once
        the events look settled)."""
        from services.notification import delivery, handlers as notification_handlers
        result = {}
        for service, engine in self.engines.items():
            if services is None or service in services:
                result[service] = ledger(engine, self.tables[service].MESSAGING, correlation_id)
        if "notification" not in result or not pending:
            return result
        with self.engines["notification"].connect() as conn:
            result["notification"]["pending_deliveries"] = (
                delivery.pending_count(conn, correlation_id)
                + notification_handlers.waiting_task_items(conn, correlation_id))
        return result

    def evaluated(self, correlation_id: str) -> bool:
        """Whether warnings has handled every records_stored batch the upload announced, once grades announced the
        upload complete (two counts: polled ten times a second while the machine is busy with the cascade)."""
        outbox = self.tables["grades"].MESSAGING[0]
        processed = self.tables["warnings"].MESSAGING[1]
        with self.engines["grades"].connect() as conn:
            announced = dict(conn.execute(
                select(outbox.c.type, func.count()).where(outbox.c.correlation_id == correlation_id)
                .group_by(outbox.c.type)).all())
        if not announced.get("grades.upload_completed") or not announced.get("grades.records_stored"):
            return False
        with self.engines["warnings"].connect() as conn:
            handled = conn.execute(select(func.count()).where(processed.c.correlation_id == correlation_id,
                                                              processed.c.handler == "on_records_stored")).scalar()
        return handled >= announced["grades.records_stored"]

    def last_effects(self, correlation_id: str) -> dict[str, datetime | None]:
        """When the upload's last event was handled (per service), last notice sent, last in-app notice written,
        last task created and last event published."""
        moments: dict[str, datetime | None] = {}
        for service, engine in self.engines.items():
            outbox, processed = self.tables[service].MESSAGING
            with engine.connect() as conn:
                moments[f"{service}: last event handled"] = conn.execute(
                    select(func.max(processed.c.processed_at)).where(processed.c.correlation_id == correlation_id)
                ).scalar()
                moments[f"{service}: last event published"] = conn.execute(
                    select(func.max(outbox.c.published_at)).where(outbox.c.correlation_id == correlation_id)
                ).scalar()
        n, inbox = self.tables["notification"].notices, self.tables["notification"].inbox
        with self.engines["notification"].connect() as conn:
            moments["last notice sent"] = conn.execute(
                select(func.max(n.c.sent_at)).where(n.c.correlation_id == correlation_id)).scalar()
            moments["last in-app notice"] = conn.execute(
                select(func.max(inbox.c.created_at)).select_from(inbox.join(n, n.c.notice_id == inbox.c.notice_id))
                .where(n.c.correlation_id == correlation_id)).scalar()
        t = self.tables["advising"].tasks
        with self.engines["advising"].connect() as conn:
            moments["last task created"] = conn.execute(
                select(func.max(t.c.created_at)).where(t.c.correlation_id == correlation_id)).scalar()
        return moments

    def first_notice_sent(self, correlation_id: str, recipient_kinds: tuple[str, ...] | None = None
                          ) -> datetime | None:
        n = self.tables["notification"].notices
        query = select(func.min(n.c.sent_at)).where(n.c.correlation_id == correlation_id, n.c.status == "sent")
        if recipient_kinds:
            query = query.where(n.c.recipient_kind.in_(recipient_kinds))
        with self.engines["notification"].connect() as conn:
            return conn.execute(query).scalar()

    def notice_kinds(self, correlation_id: str) -> list[str]:
        """The kinds of the upload's sent notices, first sent first."""
        n = self.tables["notification"].notices
        with self.engines["notification"].connect() as conn:
            return list(conn.execute(select(n.c.kind).where(n.c.correlation_id == correlation_id, n.c.status == "sent")
                                     .order_by(n.c.sent_at)).scalars())

    def bus_bytes(self, correlation_id: str) -> int:
        total = 0
        for service, engine in self.engines.items():
            outbox = self.tables[service].MESSAGING[0]
            with engine.connect() as conn:
                total += conn.execute(select(func.coalesce(func.sum(func.length(outbox.c.body)), 0))
                                      .where(outbox.c.correlation_id == correlation_id)).scalar()
        return int(total)


# --- sampling profiles (py-spy) ---------------------------------------------------------------------------------

class Profiler:
    """py-spy record on every service process while the cascade runs; collapsed stacks in ``folder``."""

    def __init__(self, folder: Path, pids: dict[str, int], rate: int = 50):
        self.folder, self.pids, self.rate = folder, pids, rate
        self.children: dict[str, subprocess.Popen] = {}

    def __enter__(self):
        self.folder.mkdir(parents=True, exist_ok=True)
        for name, pid in self.pids.items():
            self.children[name] = subprocess.Popen(
                [_py_spy(), "record", "--pid", str(pid), "--format", "raw", "--rate", str(self.rate),
                 "--nonblocking", "--output", str(self.folder / f"{name}.txt")],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)      # py-spy needs a moment to attach
        return self

    def __exit__(self, *exc):
        for child in self.children.values():
            child.send_signal(signal.SIGINT)
        for child in self.children.values():
            try:
                child.wait(timeout=60)
            except subprocess.TimeoutExpired:
                child.kill()
        return False


def _py_spy() -> str:
    beside = Path(sys.executable).parent / "py-spy"     # pip install py-spy (pyproject's "bench" extra)
    found = str(beside) if beside.exists() else shutil.which("py-spy")
    if not found:
        raise SystemExit("--profile needs py-spy: .venv/bin/pip install py-spy")
    return found


def summarise_profile(path: Path, top: int = 12) -> dict:
    """From py-spy's collapsed stacks: samples, and the functions with the most samples on the stack (inclusive)
    and at its top (self), each as a share of the process's busy samples."""
    inclusive, own, total = Counter(), Counter(), 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [_frame(f) for f in stack.split(";")]
        own[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    if not total:
        return {"samples": 0}
    share = lambda c: [(f, round(100 * n / total, 1)) for f, n in c.most_common(top)]   # noqa: E731
    return {"samples": total, "self_percent": share(own),
            "inclusive_percent": share(Counter({f: n for f, n in inclusive.items() if _ours(f)}))}


def _frame(frame: str) -> str:
    # "function (path/to/module.py:123)" -> "function (module.py)"; line numbers would split one function up
    name, _, where = frame.partition(" (")
    return f"{name} ({where.rsplit(':', 1)[0].rstrip(')')})" if where else name


def _ours(frame: str) -> bool:
    return any(part in frame for part in ("services/", "shared/", "contracts/", "marshmallow", "sqlalchemy",
                                          "psycopg2", "kombu", "json", "smtplib", "csv"))
