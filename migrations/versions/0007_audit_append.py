"""Audit appends in one round trip: ``audit_append()``, a function that chains and inserts a row.

``gis.audit.service.record_audit`` used to send four statements for every audited read (the
chain's advisory lock, the last row's hash, the next id, the insert): issue 5 item 8 measured
them as most of what the API costs on top of its SQL. The function does the same four steps
in one call. Each statement of a VOLATILE PL/pgSQL function takes a fresh snapshot under READ
COMMITTED, so the last hash is read *after* the lock is held, as before.

The hash stays defined in Python (``gis.audit.chain``): the caller sends the row's canonical
bytes split around the id (only known once the lock is held), the function computes
``sha256(prev_hash || head || id || tail)`` with PostgreSQL's built-in ``sha256()``, and
``gridhouse audit verify`` recomputes every hash in Python, so a function altered in the
database yields rows that fail verification. SECURITY INVOKER: the caller's own privileges
(the app role may INSERT into ``audit_log``, never change it).

Revision ID: 0007_audit
Revises: 0006
Create Date: 2026-11-22 19:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007_audit"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "gridhouse_app"
CHAIN_LOCK_KEY = 0x67726964_61756474  # "gridaudt", gis.audit.queries.CHAIN_LOCK_KEY
GENESIS_HEX = "00" * 32  # gis.audit.chain.GENESIS: what the first row is chained to
SIGNATURE = (
    "audit_append(timestamptz, text, text, text, text[], bytea, text, integer, text, inet, "
    "bytea, bytea)"
)

APPEND_FUNCTION = f"""
CREATE FUNCTION audit_append(
    p_at timestamptz, p_user_name text, p_role text, p_action text, p_target_codes text[],
    p_query_wkb bytea, p_purpose text, p_row_count integer, p_outcome text, p_client_addr inet,
    p_head bytea, p_tail bytea,
    OUT new_id bigint, OUT new_hash bytea
)
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
AS $$
DECLARE
    v_prev bytea;
BEGIN
    -- held until the caller's transaction ends: the next writer reads the hash written here
    PERFORM pg_advisory_xact_lock({CHAIN_LOCK_KEY});
    -- a statement of its own, so a snapshot taken after the lock: the newest committed row
    SELECT a.hash INTO v_prev FROM audit_log AS a ORDER BY a.id DESC LIMIT 1;
    new_id := nextval(pg_get_serial_sequence('audit_log', 'id'));
    new_hash := sha256(
        coalesce(v_prev, '\\x{GENESIS_HEX}'::bytea)
        || p_head || convert_to(new_id::text, 'UTF8') || p_tail
    );
    INSERT INTO audit_log (
        id, at, user_name, role, action, target_codes, query_geom, purpose, row_count,
        outcome, client_addr, prev_hash, hash
    ) VALUES (
        new_id, p_at, p_user_name, p_role, p_action, coalesce(p_target_codes, '{{}}'),
        CASE WHEN p_query_wkb IS NULL THEN NULL ELSE ST_GeomFromWKB(p_query_wkb, 4490) END,
        p_purpose, p_row_count, p_outcome, p_client_addr, v_prev, new_hash
    );
END
$$;
"""


def upgrade() -> None:
    op.execute(APPEND_FUNCTION)
    op.execute(f"REVOKE ALL ON FUNCTION {SIGNATURE} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {SIGNATURE} TO {APP_ROLE}")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {SIGNATURE}")
