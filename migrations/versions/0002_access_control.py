"""Access control: login sessions, TOTP replay guard, the append-only audit log, the app role.

- ``user_sessions``: hashed bearer tokens.
- ``users.totp_last_step``: the last TOTP time step accepted (a code is never accepted twice).
- ``audit_log``: an index on ``at``; a trigger refusing UPDATE (always), TRUNCATE (always) and
  DELETE of rows younger than 180 days.
- ``gridhouse_app``: a NOLOGIN role the HTTP service switches to (``SET ROLE``) with SELECT,
  INSERT, UPDATE, DELETE on every table but only SELECT and INSERT on ``audit_log``. The migrating
  user is made a member of it. Roles belong to the whole server, so downgrade revokes this
  database's privileges and leaves the role (like the extensions of 0001).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = 'gridhouse_app'
RETENTION = '180 days'

CREATE_ROLE = f"""
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
        CREATE ROLE {APP_ROLE} NOLOGIN;
    END IF;
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
       AND NOT pg_has_role(current_user, '{APP_ROLE}', 'MEMBER') THEN
        EXECUTE format('GRANT {APP_ROLE} TO %I', current_user);
    END IF;
END
$$;
"""

GUARD_FUNCTION = f"""
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'audit_log is append-only: UPDATE refused (row %)', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    ELSIF TG_OP = 'TRUNCATE' THEN
        RAISE EXCEPTION 'audit_log is append-only: TRUNCATE refused'
            USING ERRCODE = 'insufficient_privilege';
    ELSIF OLD.at > now() - interval '{RETENTION}' THEN
        RAISE EXCEPTION 'audit_log rows are kept {RETENTION}: DELETE of row % refused', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN OLD;
END
$$;
"""


def upgrade() -> None:
    op.create_table('user_sessions',
    sa.Column('token_hash', sa.LargeBinary(), nullable=False),
    sa.Column('user_uid', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('client_addr', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['user_uid'], ['users.uid'], name=op.f('fk_user_sessions_user_uid_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_user_sessions'))
    )
    op.create_index(op.f('ix_user_sessions_user_uid'), 'user_sessions', ['user_uid'], unique=False)
    op.add_column('users', sa.Column('totp_last_step', sa.BigInteger(), nullable=True))
    op.create_index(op.f('ix_audit_log_at'), 'audit_log', ['at'], unique=False)

    op.execute(GUARD_FUNCTION)
    op.execute(
        "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
    )
    op.execute(
        "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()"
    )

    op.execute(CREATE_ROLE)
    op.execute(f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {APP_ROLE}")
    op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM {APP_ROLE}")
    op.execute(f"REVOKE INSERT, UPDATE, DELETE ON spatial_ref_sys, alembic_version FROM {APP_ROLE}")
    op.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE}")
    # tables and sequences of later migrations get the same privileges without a line of their own
    op.execute(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {APP_ROLE}"
    )
    op.execute(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {APP_ROLE}"
    )


def downgrade() -> None:
    op.execute(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE USAGE, SELECT ON SEQUENCES FROM {APP_ROLE}"
    )
    op.execute(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        f"REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM {APP_ROLE}"
    )
    op.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {APP_ROLE}")
    op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {APP_ROLE}")
    op.execute(f"REVOKE USAGE ON SCHEMA public FROM {APP_ROLE}")
    op.execute("DROP TRIGGER audit_log_no_truncate ON audit_log")
    op.execute("DROP TRIGGER audit_log_append_only ON audit_log")
    op.execute("DROP FUNCTION audit_log_append_only()")
    op.drop_index(op.f('ix_audit_log_at'), table_name='audit_log')
    op.drop_column('users', 'totp_last_step')
    op.drop_index(op.f('ix_user_sessions_user_uid'), table_name='user_sessions')
    op.drop_table('user_sessions')
