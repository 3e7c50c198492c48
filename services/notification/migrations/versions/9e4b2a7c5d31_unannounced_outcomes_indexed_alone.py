"""unannounced outcomes indexed alone

The index on notices.announced held an entry for every notice ever stored, and every update of a notice (claimed,
handed over, sent, announced) added one more; the announcement still read all of an upload's notices to find the
few whose outcome it had not told yet. A partial index on (correlation_id, notice_id) of the rows with
announced = false holds only those, in the order the announcement takes them. Measured in the 100k cascade with
pg_stat_statements (benchmarks/README.md, fifth round).

Revision ID: 9e4b2a7c5d31
Revises: 5b1e7c3d9a20
Create Date: 2026-11-28 16:40:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '9e4b2a7c5d31'
down_revision: Union[str, Sequence[str], None] = '5b1e7c3d9a20'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# The same condition as the model (tables.py) and the queries, as each database writes it (IS false, IS 0).
UNANNOUNCED = sa.column("announced", sa.Boolean).is_(False)


def upgrade() -> None:
    op.drop_index("ix_notices_announced", table_name="notices")
    op.create_index("ix_notices_unannounced", "notices", ["correlation_id", "notice_id"],
                    postgresql_where=UNANNOUNCED, sqlite_where=UNANNOUNCED)


def downgrade() -> None:
    op.drop_index("ix_notices_unannounced", table_name="notices")
    op.create_index("ix_notices_announced", "notices", ["announced"])
