"""notice texts compressed with lz4

A notice's text and HTML (~2.5 KB together, mostly Chinese) make most rows longer than PostgreSQL keeps in line, so
each was compressed on insert. pglz, the default, rarely shrinks them enough and costs more; lz4 does, so most rows
stay in line instead of going to the TOAST table. Measured with benchmarks.notification_deciding (5 alternating
runs): PostgreSQL 0.142 -> 0.119 ms per notice decided. Rows already stored keep their compression. Only on a
PostgreSQL built with lz4 (14 and later, as the official images are); elsewhere nothing changes.

Revision ID: 5b1e7c3d9a20
Revises: 2d78de5fece2
Create Date: 2026-11-28 12:40:00.000000

"""
from typing import Sequence, Union

from alembic import op

from shared.migrations import set_compression


# revision identifiers, used by Alembic.
revision: str = '5b1e7c3d9a20'
down_revision: Union[str, Sequence[str], None] = '2d78de5fece2'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

COLUMNS = ("text", "html")


def upgrade() -> None:
    set_compression(op, "notices", COLUMNS, "lz4")


def downgrade() -> None:
    set_compression(op, "notices", COLUMNS, "DEFAULT")
