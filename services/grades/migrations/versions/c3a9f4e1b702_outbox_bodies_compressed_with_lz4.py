"""outbox bodies compressed with lz4

An upload announces its records as grades.records_stored events of ~1,000 records, ~280 kB of JSON each, written to
the outbox in the upload's transaction and read back by the relay: 30 MB for a 100,000-row upload, all of it
compressed by PostgreSQL on insert (pglz, the default) and decompressed on read. lz4 does the same for about half
the CPU, on the upload's own path (the staff member waits for it). Measured with benchmarks/grades_import.py on a
3,000-student file: PostgreSQL 1.55-1.57 -> 1.12-1.33 CPU-s (`PGOPTIONS='-c default_toast_compression=lz4'`).
Rows already stored keep their compression. Only on a PostgreSQL built with lz4; elsewhere nothing changes.

Revision ID: c3a9f4e1b702
Revises: be23d2981f96
Create Date: 2026-11-28 16:10:00.000000

"""
from typing import Sequence, Union

from alembic import op

from shared.migrations import set_compression


# revision identifiers, used by Alembic.
revision: str = 'c3a9f4e1b702'
down_revision: Union[str, Sequence[str], None] = 'be23d2981f96'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    set_compression(op, "outbox", ("body",), "lz4")


def downgrade() -> None:
    set_compression(op, "outbox", ("body",), "DEFAULT")
