"""How long an ``aq`` call takes before it does anything: the interpreter starting and the command's imports
(aq_cli/main.py loads a subcommand's module only when it runs).

    .venv/bin/python -m benchmarks.cli_startup            # best of 5 wall seconds per command
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

COMMANDS = (["--help"], ["grades", "--help"], ["wait", "--help"], ["users", "--help"])


def best_seconds(args: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "aq_cli.main", *args], check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(json.dumps({"aq " + " ".join(c): round(best_seconds(c, args.repeat), 3) for c in COMMANDS}))


if __name__ == "__main__":
    main()
