"""The notification service's delivering side alone: pending notices (e-mail and in-app) claimed, handed to the
development mail sink over SMTP or put in the inbox, and recorded — in one process under eventlet with psycogreen,
as the service runs them, against a scratch PostgreSQL database. It measures the CPU time per notice of this
process (the cascade benchmark cannot separate it from rendering and the other services on a shared machine).

    .venv/bin/python -m benchmarks.notification_delivery                  # 3,000 notices, 60 % e-mail
    .venv/bin/python -m benchmarks.notification_delivery --notices 5000 --profile
    AQ_DELIVERY_HANDOVER_BATCH=1 .venv/bin/python -m benchmarks.notification_delivery --email-share 1

The delivery settings come from the environment (AQ_DELIVERY_BATCH, AQ_DELIVERY_HANDOVER_BATCH, ...).

Prints one JSON line; --profile adds cProfile's top functions.
"""
from __future__ import annotations

import eventlet

eventlet.monkey_patch()

import argparse  # noqa: E402
import cProfile  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import pstats  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from datetime import datetime, timezone  # noqa: E402
from pathlib import Path  # noqa: E402

from sqlalchemy import create_engine, insert  # noqa: E402

from benchmarks.cascade import free_port  # noqa: E402
from benchmarks.probes import database_backends, process_cpu_seconds  # noqa: E402

PG = "postgresql://postgres@127.0.0.1:5432/"
RESULTS = Path(__file__).resolve().parent / "results"


def notices(count: int, email_share: float) -> tuple[list[dict], dict]:
    now = datetime.now(timezone.utc)
    rows, contacts = [], {}
    for i in range(count):
        channel = "email" if i < count * email_share else "in_app"
        recipient = f"2101{i:05d}"
        contacts[recipient] = {"email": f"s{recipient}@stu.example.edu.cn"}
        rows.append({"notice_id": f"N-{uuid.uuid4().hex[:16]}", "cause": f"bench:{i}", "kind": "warning",
                     "recipient_kind": "student", "recipient_id": recipient, "channel": channel,
                     "subject": "学业预警通知：2023-2024-1 学期 黄色预警",
                     "text": "同学你好：\n你在 2023-2024-1 学期的不及格学分已达到黄色预警线。\n" * 8,
                     "html": "<p>同学你好：</p><p>你在 2023-2024-1 学期的不及格学分已达到黄色预警线。</p>" * 8,
                     "short_text": None, "locale": "zh", "requires_acknowledgement": False, "status": "pending",
                     "attempts": 0, "fallbacks": None, "correlation_id": "U-bench", "event_id": "E-bench",
                     "created_at": now})
    return rows, contacts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notices", type=int, default=3000)
    parser.add_argument("--email-share", type=float, default=0.6)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--record", action="store_true", help="write benchmarks/results/notification_delivery.json")
    args = parser.parse_args()

    from services.notification import delivery, settings as settings_module, tables
    from services.notification.channels import load_channels
    from services.notification.domain.schedule import RateLimits
    from shared.db import dispose_all, engine_for
    from shared.migrations import upgrade

    home = Path(tempfile.mkdtemp(prefix="aq-bench-mail-"))
    port = free_port()
    sink = subprocess.Popen([sys.executable, "-m", "aq_cli.main", "mailsink", "--port", str(port)],
                            env={**os.environ, "AQ_HOME": str(home), "AQ_SMTP_URL": f"smtp://127.0.0.1:{port}"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    database = f"aq_bench_notify_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG.replace("postgresql://", "postgresql+psycopg2://") + "postgres",
                          isolation_level="AUTOCOMMIT")
    try:
        url = PG + database
        upgrade("notification", url)
        engine = engine_for("notification", url)
        rows, contacts = notices(args.notices, args.email_share)
        with engine.begin() as conn:
            conn.execute(insert(tables.notices), rows)
        env = {**os.environ, "AQ_SMTP_URL": f"smtp://127.0.0.1:{port}", "AQ_NOTICE_QUIET_HOURS": ""}
        settings = settings_module.load(env)
        channels = load_channels(settings.channels)
        deliverer = delivery.Deliverer(engine, channels, settings, limits=RateLimits({}))
        pool = eventlet.GreenPool(settings.concurrency)
        time.sleep(1.0)                     # the sink starts listening
        profile = cProfile.Profile() if args.profile else None
        backends = lambda: {pid: process_cpu_seconds(pid) or 0.0 for pid in database_backends(database)}  # noqa: E731
        database_cpu, sink_cpu = backends(), process_cpu_seconds(sink.pid) or 0.0
        started, cpu = time.perf_counter(), time.process_time()
        if profile:
            profile.enable()
        outcomes: dict[str, int] = {}
        while True:
            claimed, token, _ = deliverer.claim()
            if not claimed:
                break
            for outcome, n in deliverer.deliver(claimed, token, contacts, pool_map=pool.imap).items():
                outcomes[outcome] = outcomes.get(outcome, 0) + n
        if profile:
            profile.disable()
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        database_cpu = sum(v - database_cpu.get(pid, 0.0) for pid, v in backends().items())
        sink_cpu = (process_cpu_seconds(sink.pid) or 0.0) - sink_cpu
        result = {"notices": args.notices, "email_share": args.email_share, "outcomes": outcomes,
                  "wall_seconds": round(wall, 2), "cpu_seconds": round(cpu, 2),
                  "cpu_ms_per_notice": round(cpu / args.notices * 1000, 3),
                  "postgresql_cpu_ms_per_notice": round(database_cpu / args.notices * 1000, 3),
                  "mail_sink_cpu_seconds": round(sink_cpu, 2),
                  "load_average": os.getloadavg(), "concurrency": settings.concurrency,
                  "batch": settings.batch_size, "handover_batch": settings.handover_batch}
        overrides = "".join(f"{k}={v} " for k, v in sorted(os.environ.items()) if k.startswith("AQ_DELIVERY_"))
        result["command"] = overrides + ".venv/bin/python -m benchmarks.notification_delivery " + " ".join(sys.argv[1:])
        print(json.dumps(result))
        if args.record:
            RESULTS.mkdir(parents=True, exist_ok=True)
            (RESULTS / "notification_delivery.json").write_text(json.dumps(result, indent=2) + "\n")
        if profile:
            out = io.StringIO()
            pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(25)
            print(out.getvalue())
    finally:
        sink.terminate()
        sink.wait(timeout=30)
        dispose_all()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.dispose()


if __name__ == "__main__":
    main()
