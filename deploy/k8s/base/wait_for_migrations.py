"""Init container of every service Deployment: wait until the service's database is at the newest migration.

    python wait_for_migrations.py SERVICE        (AQ_DATABASE_URL as for the service; mounted from a ConfigMap)

The aq-migrate Job migrates (`aq migrate`); a service pod starts only once that is done, so a new release
never runs against an old schema and a first install never handles an event before its tables exist.
Exit 0 when the database's Alembic revision is the head of the service's migrations in this image; keep
checking every AQ_MIGRATION_POLL_SECONDS (2) while the database is unreachable or behind; exit 1 after
AQ_MIGRATION_WAIT_SECONDS (900) so Kubernetes restarts the pod and the wait shows in its events.
"""
from __future__ import annotations

import os
import sys
import time


def revisions(service: str) -> tuple[set[str], set[str]]:
    """(heads of the service's migrations in this image, revisions the database is at)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from shared.db import engine_for
    from shared.migrations import alembic_config

    heads = set(ScriptDirectory.from_config(alembic_config(service)).get_heads())
    with engine_for(service).connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    return heads, current


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: wait_for_migrations.py SERVICE", file=sys.stderr)
        return 2
    service = argv[0]
    wait = float(os.environ.get("AQ_MIGRATION_WAIT_SECONDS", "900"))
    poll = float(os.environ.get("AQ_MIGRATION_POLL_SECONDS", "2"))
    deadline = time.monotonic() + wait
    last = None
    while True:
        try:
            heads, current = revisions(service)
            state = f"database at {sorted(current) or 'no revision'}, image expects {sorted(heads)}"
            if current == heads:
                print(f"{service}: {state}: ready", flush=True)
                return 0
        except Exception as exc:   # database not there yet: the finding, not a crash
            state = f"database not reachable: {type(exc).__name__}: {exc}".splitlines()[0]
        if state != last:
            print(f"{service}: waiting for the aq-migrate job ({state})", flush=True)
            last = state
        if time.monotonic() >= deadline:
            print(f"{service}: gave up after {wait:.0f}s ({state})", file=sys.stderr, flush=True)
            return 1
        time.sleep(poll)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
