"""Case facts on each question turn, so a follow-up ("and if it's $120k?") recomputes from them.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("questions") as batch:  # batch: SQLite cannot ALTER most things in place
        batch.add_column(sa.Column("facts", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("questions") as batch:
        batch.drop_column("facts")
