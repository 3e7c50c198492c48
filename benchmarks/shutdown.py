"""How long a service takes to stop after SIGTERM when it has nothing to finish (docs/operations.md: ~0.5 s;
3 s with nameko's own queue consumer, whose loop looked at a stop request once a second, three times over).

Each service (the gateway aside: it answers HTTP, not RPC) runs alone as `aq service run NAME` on SQLite under a scratch home, in a vhost of its own on the local
RabbitMQ; once it answers its `health` RPC it gets SIGTERM, and the time to the process's exit is printed.

    .venv/bin/python -m benchmarks.shutdown [--repeat 3] [SERVICE ...]
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

from shared import config
from shared.rpc_client import RpcClient, ServiceUnavailable


def _ctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=120)


def seconds_to_stop(name: str, amqp_uri: str, home: str) -> float:
    env = {**os.environ, "AQ_HOME": home, "AQ_AMQP_URI": amqp_uri}
    process = subprocess.Popen([sys.executable, "-m", "aq_cli.main", "service", "run", name], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with RpcClient(amqp_uri, timeout=5) as rpc:
            deadline = time.monotonic() + 60
            while True:
                try:
                    rpc.call(name, "health", timeout=5)
                    break
                except ServiceUnavailable:          # not consuming yet
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        return time.monotonic() - started
    finally:
        if process.poll() is None:
            process.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("services", nargs="*", default=list(config.SERVICES))   # the gateway has no health RPC
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    vhost = f"aq-bench-shutdown-{uuid.uuid4().hex[:6]}"
    _ctl("add_vhost", vhost)
    _ctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    try:
        results = {}
        with tempfile.TemporaryDirectory(prefix="aq-shutdown-") as home:
            for name in args.services:
                runs = [round(seconds_to_stop(name, f"amqp://guest:guest@127.0.0.1:5672/{vhost}", home), 2)
                        for _ in range(args.repeat)]
                results[name] = {"median_seconds": round(statistics.median(runs), 2), "runs": runs}
                print(f"{name:13} SIGTERM -> exit {statistics.median(runs):.2f} s (runs {runs})", flush=True)
        print(json.dumps(results))
    finally:
        _ctl("delete_vhost", vhost)


if __name__ == "__main__":
    main()
