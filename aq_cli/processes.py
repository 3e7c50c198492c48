"""Starting, watching and stopping the services as OS processes on one machine.

Each process has a pid file and a log under AQ_HOME (run/, logs/). ``up`` starts whatever is not running,
so it also brings back a service that died; ``down`` stops them with SIGTERM (nameko finishes running
workers), then SIGKILL after a grace period.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from shared import config

MAILSINK = "mailsink"
GATEWAY = "gateway"          # the HTTP gateway (services/gateway): a nameko service, but no part of the cascade
RUNNABLE = config.SERVICES + (GATEWAY,)


def run_dir() -> Path:
    path = config.home() / "run"
    path.mkdir(parents=True, exist_ok=True)
    return path


def log_dir() -> Path:
    path = config.home() / "logs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def wants_mailsink() -> bool:
    """The development mail sink runs unless an operator pointed AQ_SMTP_URL at a real server."""
    return "AQ_SMTP_URL" not in os.environ or os.environ.get("AQ_MAILSINK") == "1"


def base(name: str) -> str:
    """The service an instance runs: ``warnings@2`` is the second instance of ``warnings``."""
    return name.split("@", 1)[0]


def command_for(name: str) -> list[str]:
    name = base(name)
    if name == MAILSINK:
        port = config.smtp_url().rsplit(":", 1)[-1]
        return [sys.executable, "-m", "aq_cli.main", "mailsink", "--port", port]
    return [sys.executable, "-m", "aq_cli.main", "service", "run", name]


def _marker(name: str) -> str:
    name = base(name)
    return "mailsink" if name == MAILSINK else f"services.{name}.service"


def pid_of(name: str) -> int | None:
    """The pid of a running process of ours for ``name``, or None (a stale pid file is ignored)."""
    pid_file = run_dir() / f"{name}.pid"
    try:
        pid = int(pid_file.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except (OSError, ValueError):
        return None
    # The pid may have been reused by an unrelated process; ours carries its service in its command line.
    if _marker(name) not in cmdline and f"service run {base(name)}" not in cmdline:
        return None
    try:
        with open(f"/proc/{pid}/stat") as stat:
            if stat.read().split(")")[-1].split()[0] == "Z":
                return None
    except OSError:
        return None
    return pid


def start(name: str) -> int:
    log = open(log_dir() / f"{name}.log", "ab")
    process = subprocess.Popen(command_for(name), stdout=log, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, start_new_session=True, env=os.environ.copy())
    (run_dir() / f"{name}.pid").write_text(str(process.pid))
    return process.pid


def names(replicas: dict[str, int] | None = None) -> list[str]:
    """Every process to run: the mail sink (unless a real SMTP server is configured) and each service's
    instances (``warnings``, ``warnings@2``, …)."""
    instances = []
    for service in config.SERVICES:
        count = (replicas or {}).get(service, 1)
        instances += [service] + [f"{service}@{i}" for i in range(2, count + 1)]
    # One gateway: it listens on AQ_GATEWAY_PORT, which a second local instance could not share.
    return ([MAILSINK] if wants_mailsink() else []) + instances + [GATEWAY]


def running_instances() -> list[str]:
    return sorted(p.stem for p in run_dir().glob("*.pid") if pid_of(p.stem))


def parse_replicas(text: str) -> dict[str, int]:
    """"warnings=2,notification=3" -> {"warnings": 2, "notification": 3}."""
    replicas = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        service, _, count = part.partition("=")
        if service not in config.SERVICES or not count.isdigit() or int(count) < 1:
            raise ValueError(f"bad replica setting {part!r}: want SERVICE=COUNT with a service of "
                             f"{', '.join(config.SERVICES)}")
        replicas[service] = int(count)
    return replicas


def up(selected: list[str] | None = None, replicas: dict[str, int] | None = None) -> dict[str, tuple[int, bool]]:
    """Start every selected process that is not running; returns name -> (pid, started_now)."""
    result = {}
    for name in selected or names(replicas):
        pid = pid_of(name)
        result[name] = (pid, False) if pid else (start(name), True)
    return result


def stop(name: str, grace: float = 15.0, sig=signal.SIGTERM) -> bool:
    return bool(stop_all([name], grace, sig))


def stop_all(selected: list[str], grace: float = 15.0, sig=signal.SIGTERM) -> list[str]:
    """Signal every process at once and wait for them together: a nameko service takes seconds to finish
    its workers and close its connections, and waiting for each in turn multiplied that by the instances."""
    signalled = {}
    for name in selected:
        pid = pid_of(name)
        if not pid:
            continue
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            continue
        signalled[name] = pid
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(pid_of(name) for name in signalled):
        time.sleep(0.1)
    for name in signalled:
        if pid := pid_of(name):
            os.kill(pid, signal.SIGKILL)
    return list(signalled)


def down(selected: list[str] | None = None) -> list[str]:
    chosen = selected or running_instances()
    # Services first, all together; the mail sink last, so a notice being sent as they stop still lands.
    services = [name for name in chosen if base(name) != MAILSINK]
    return stop_all(services) + stop_all([name for name in chosen if base(name) == MAILSINK])


def exec_service(name: str) -> None:
    """Replace this process with ``nameko run`` for one service (what a container runs, too)."""
    if name not in RUNNABLE:
        raise SystemExit(f"unknown service {name!r}; services: {', '.join(RUNNABLE)}")
    import services
    # eventlet announces its deprecation on every import; it says nothing an operator can act on.
    os.environ.setdefault("PYTHONWARNINGS", "ignore::DeprecationWarning")
    config_file = Path(services.__file__).parent / name / "config.yml"
    os.execv(sys.executable, [sys.executable, "-m", "nameko", "run", "--config", str(config_file),
                              service_path(name)])


def service_path(name: str) -> str:
    """What `nameko run` takes: the module and its service class (naming the class matters, because the
    module also imports the shared base class, which nameko would otherwise try to run too)."""
    return f"services.{name}.service:{name.capitalize()}Service"
