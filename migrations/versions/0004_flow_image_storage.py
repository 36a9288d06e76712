"""Store flow image bytes out of line without compression: JPEG and PNG are already compressed.

PostgreSQL tried pglz on every ~25 kB image before moving it out of line, for nothing; with
STORAGE EXTERNAL the same pgbench append ran 1,286 -> 2,461 tx/s (docs/performance.md).
Rows already stored keep their storage; new rows skip the attempt.

Revision ID: 0004
Revises: 0003
"""
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE flow_images ALTER COLUMN data SET STORAGE EXTERNAL")


def downgrade() -> None:
    op.execute("ALTER TABLE flow_images ALTER COLUMN data SET STORAGE EXTENDED")
