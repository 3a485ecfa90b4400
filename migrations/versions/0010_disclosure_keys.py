"""Disclosure keys: a secret random number per incident and per report, for cell-key
perturbation of published counts.

A published count's noise is drawn from the sum of the keys of the records it counts, so the
same cell always gets the same noise however it is asked for (differencing two answers yields
noise, not a record). The keys are drawn by PostgreSQL's strong random source
(gen_random_uuid) and never leave the server except into the trend computations.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision: str | None = "0009"
branch_labels = None
depends_on = None

# 32 random bits: the first eight hex digits of a version-4 UUID are all random.
RANDOM_KEY = "('x' || lpad(substr(gen_random_uuid()::text, 1, 8), 16, '0'))::bit(64)::bigint"


def upgrade() -> None:
    for table in ("incidents", "reports"):
        op.add_column(
            table,
            sa.Column(
                "disclosure_key", sa.BigInteger, nullable=False, server_default=sa.text(RANDOM_KEY)
            ),
        )


def downgrade() -> None:
    for table in ("incidents", "reports"):
        op.drop_column(table, "disclosure_key")
