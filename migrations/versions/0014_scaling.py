"""Caches correct across workers and hosts: a generation counter the database moves whenever a
change may end what a process holds in memory for an API key (a key revoked, re-labelled or
deleted; an organization renamed, deactivated or deleted). Every worker compares it with the
one its cached keys were read at before it trusts them.

Revision ID: 0014_scaling
Revises: 0011
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_scaling"
down_revision: str | None = "0013_languages"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cache_generations",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("generation", sa.BigInteger(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("name", name="pk_cache_generations"),
    )
    op.execute("INSERT INTO cache_generations (name) VALUES ('keys')")
    op.execute(
        """
        CREATE FUNCTION bump_keys_generation() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE cache_generations SET generation = generation + 1 WHERE name = 'keys';
            RETURN NULL;
        END $$
        """
    )
    # Statement-level: a statement that ends many keys (an organization deactivated) moves
    # the counter once. The touch of last_used_at (once a minute per busy key) does not move it.
    op.execute(
        """
        CREATE TRIGGER api_keys_generation
        AFTER UPDATE OF revoked_at, key_hash, organization_id, prefix OR DELETE ON api_keys
        FOR EACH STATEMENT EXECUTE FUNCTION bump_keys_generation()
        """
    )
    op.execute(
        """
        CREATE TRIGGER organizations_generation
        AFTER UPDATE OF name, kind, jurisdiction, active OR DELETE ON organizations
        FOR EACH STATEMENT EXECUTE FUNCTION bump_keys_generation()
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER organizations_generation ON organizations")
    op.execute("DROP TRIGGER api_keys_generation ON api_keys")
    op.execute("DROP FUNCTION bump_keys_generation()")
    op.drop_table("cache_generations")
