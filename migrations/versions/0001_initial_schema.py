"""Initial schema: extensions, divisions, buildings, houses, grids, people, users, audit log.

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 13:13:57.419711
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql
revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.create_geospatial_table('audit_log',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('user_name', sa.String(length=64), nullable=True),
    sa.Column('role', sa.String(length=16), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('target_codes', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False),
    sa.Column('query_geom', Geometry(srid=4490, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('purpose', sa.Text(), nullable=True),
    sa.Column('row_count', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('client_addr', postgresql.INET(), nullable=True),
    sa.Column('prev_hash', sa.LargeBinary(), nullable=True),
    sa.Column('hash', sa.LargeBinary(), nullable=True),
    sa.CheckConstraint('query_geom IS NULL OR (ST_IsValid(query_geom) AND NOT ST_IsEmpty(query_geom))', name=op.f('ck_audit_log_query_geom_valid')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    op.create_geospatial_index('idx_audit_log_query_geom', 'audit_log', ['query_geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_audit_log_user_name'), 'audit_log', ['user_name'], unique=False)
    op.create_geospatial_table('divisions',
    sa.Column('code', sa.String(length=12), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('level', sa.Enum('province', 'city', 'county', 'township', 'village', name='division_level', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('rank', sa.SmallInteger(), nullable=False),
    sa.Column('parent_code', sa.String(length=12), nullable=True),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4490, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.CheckConstraint("code ~ '^[0-9]{12}$'", name=op.f('ck_divisions_code_format')),
    sa.CheckConstraint('geom IS NULL OR (ST_IsValid(geom) AND NOT ST_IsEmpty(geom))', name=op.f('ck_divisions_geom_valid')),
    sa.CheckConstraint('rank BETWEEN 1 AND 5', name=op.f('ck_divisions_rank_range')),
    sa.ForeignKeyConstraint(['parent_code'], ['divisions.code'], name=op.f('fk_divisions_parent_code_divisions')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_divisions'))
    )
    op.create_geospatial_index('idx_divisions_geom', 'divisions', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_divisions_parent_code'), 'divisions', ['parent_code'], unique=False)
    op.create_table('import_batches',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('kind', sa.Enum('divisions', 'buildings', 'houses', 'people', 'grids', name='import_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('running', 'done', 'failed', name='import_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('counts', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_batches'))
    )
    op.create_table('users',
    sa.Column('uid', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('role', sa.Enum('officer', 'police', 'planner', 'admin', 'auditor', name='user_role', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('password_hash', sa.Text(), nullable=False),
    sa.Column('grid_codes', postgresql.ARRAY(sa.String(length=15)), server_default='{}', nullable=False),
    sa.Column('division_code', sa.String(length=12), nullable=True),
    sa.Column('is_disabled', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('failed_logins', sa.Integer(), server_default='0', nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('totp_secret', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('uid', name=op.f('pk_users')),
    sa.UniqueConstraint('name', name=op.f('uq_users_name'))
    )
    op.create_table('building_code_counters',
    sa.Column('community_code', sa.String(length=12), nullable=False),
    sa.Column('last_seq', sa.Integer(), server_default='0', nullable=False),
    sa.CheckConstraint('last_seq BETWEEN 0 AND 999999', name=op.f('ck_building_code_counters_last_seq_range')),
    sa.ForeignKeyConstraint(['community_code'], ['divisions.code'], name=op.f('fk_building_code_counters_community_code_divisions')),
    sa.PrimaryKeyConstraint('community_code', name=op.f('pk_building_code_counters'))
    )
    op.create_geospatial_table('buildings',
    sa.Column('uid', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('code', sa.String(length=25), nullable=False),
    sa.Column('district_code', sa.String(length=6), nullable=False),
    sa.Column('community_code', sa.String(length=12), nullable=False),
    sa.Column('structure_class', sa.SmallInteger(), server_default='1', nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('provisional', 'active', 'pending_removal', 'retired', name='building_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4490, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('height_m', sa.Float(), nullable=True),
    sa.Column('floors', sa.SmallInteger(), nullable=True),
    sa.Column('use', sa.String(length=20), nullable=True),
    sa.Column('source_id', sa.String(length=100), nullable=True),
    sa.Column('batch_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('retired_reason', sa.String(length=20), nullable=True),
    sa.CheckConstraint("code ~ '^[0-9]{24}[0-9X]$'", name=op.f('ck_buildings_code_format')),
    sa.CheckConstraint('ST_IsValid(geom) AND NOT ST_IsEmpty(geom)', name=op.f('ck_buildings_geom_valid')),
    sa.CheckConstraint('district_code = left(community_code, 6)', name=op.f('ck_buildings_district_prefix')),
    sa.CheckConstraint('seq BETWEEN 1 AND 999999', name=op.f('ck_buildings_seq_range')),
    sa.CheckConstraint('structure_class IN (1, 2, 3)', name=op.f('ck_buildings_structure_class')),
    sa.CheckConstraint('version >= 1', name=op.f('ck_buildings_version_positive')),
    sa.ForeignKeyConstraint(['batch_id'], ['import_batches.id'], name=op.f('fk_buildings_batch_id_import_batches')),
    sa.ForeignKeyConstraint(['community_code'], ['divisions.code'], name=op.f('fk_buildings_community_code_divisions')),
    sa.PrimaryKeyConstraint('uid', name=op.f('pk_buildings')),
    sa.UniqueConstraint('code', name=op.f('uq_buildings_code')),
    sa.UniqueConstraint('community_code', 'seq', name=op.f('uq_buildings_community_code_seq'))
    )
    op.create_geospatial_index('idx_buildings_geom', 'buildings', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_buildings_district_code'), 'buildings', ['district_code'], unique=False)
    op.create_index(op.f('ix_buildings_status'), 'buildings', ['status'], unique=False)
    op.create_table('grid_code_counters',
    sa.Column('community_code', sa.String(length=12), nullable=False),
    sa.Column('last_seq', sa.Integer(), server_default='0', nullable=False),
    sa.CheckConstraint('last_seq BETWEEN 0 AND 999', name=op.f('ck_grid_code_counters_last_seq_range')),
    sa.ForeignKeyConstraint(['community_code'], ['divisions.code'], name=op.f('fk_grid_code_counters_community_code_divisions')),
    sa.PrimaryKeyConstraint('community_code', name=op.f('pk_grid_code_counters'))
    )
    op.create_geospatial_table('grids',
    sa.Column('uid', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('code', sa.String(length=15), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('name', sa.String(length=100), nullable=True),
    sa.Column('community_code', sa.String(length=12), nullable=False),
    sa.Column('district_code', sa.String(length=6), nullable=False),
    sa.Column('class', sa.Enum('reinforced', 'key', 'regular', name='grid_class', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('class_explanation', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('geom', Geometry(geometry_type='POLYGON', srid=4490, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    postgresql.ExcludeConstraint((sa.text('code'), '='), (sa.text('daterange(valid_from, valid_to)'), '&&'), using='gist', name='grids_one_version_at_a_time'),
    sa.CheckConstraint("code ~ '^[0-9]{15}$'", name=op.f('ck_grids_code_format')),
    sa.CheckConstraint('ST_IsValid(geom) AND NOT ST_IsEmpty(geom)', name=op.f('ck_grids_geom_valid')),
    sa.CheckConstraint('left(code, 12) = community_code', name=op.f('ck_grids_community_prefix')),
    sa.CheckConstraint('valid_to IS NULL OR valid_to > valid_from', name=op.f('ck_grids_period_order')),
    sa.CheckConstraint('version >= 1', name=op.f('ck_grids_version_positive')),
    sa.ForeignKeyConstraint(['community_code'], ['divisions.code'], name=op.f('fk_grids_community_code_divisions')),
    sa.PrimaryKeyConstraint('uid', name=op.f('pk_grids')),
    sa.UniqueConstraint('code', 'version', name=op.f('uq_grids_code_version'))
    )
    op.create_geospatial_index('idx_grids_geom', 'grids', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_grids_code'), 'grids', ['code'], unique=False)
    op.create_index(op.f('ix_grids_district_code'), 'grids', ['district_code'], unique=False)
    op.create_table('import_changes',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('batch_id', sa.BigInteger(), nullable=False),
    sa.Column('change', sa.Enum('added', 'changed', 'unchanged', 'pending_removal', 'review', name='change_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('code', sa.String(length=25), nullable=True),
    sa.Column('source_id', sa.String(length=100), nullable=True),
    sa.Column('detail', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['import_batches.id'], name=op.f('fk_import_changes_batch_id_import_batches')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_changes'))
    )
    op.create_index(op.f('ix_import_changes_batch_id'), 'import_changes', ['batch_id'], unique=False)
    op.create_geospatial_table('building_footprints',
    sa.Column('building_uid', sa.Uuid(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4490, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('valid_from', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('valid_to', sa.DateTime(timezone=True), nullable=True),
    sa.Column('batch_id', sa.BigInteger(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.CheckConstraint('ST_IsValid(geom) AND NOT ST_IsEmpty(geom)', name=op.f('ck_building_footprints_geom_valid')),
    sa.ForeignKeyConstraint(['batch_id'], ['import_batches.id'], name=op.f('fk_building_footprints_batch_id_import_batches')),
    sa.ForeignKeyConstraint(['building_uid'], ['buildings.uid'], name=op.f('fk_building_footprints_building_uid_buildings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('building_uid', 'version', name=op.f('pk_building_footprints'))
    )
    op.create_geospatial_index('idx_building_footprints_geom', 'building_footprints', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_table('houses',
    sa.Column('uid', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('code', sa.String(length=25), nullable=False),
    sa.Column('building_uid', sa.Uuid(), nullable=False),
    sa.Column('district_code', sa.String(length=6), nullable=False),
    sa.Column('unit', sa.Integer(), nullable=False),
    sa.Column('floor', sa.SmallInteger(), nullable=True),
    sa.Column('room', sa.String(length=20), nullable=True),
    sa.Column('use', sa.Enum('residential', 'commercial', 'mixed', 'dorm', 'office', 'other', name='house_use', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('area_m2', sa.Float(), nullable=True),
    sa.Column('rooms', sa.SmallInteger(), nullable=True),
    sa.Column('is_rented', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('landlord_uid', sa.Uuid(), nullable=True),
    sa.Column('is_estimated', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('status', sa.Enum('active', 'retired', name='house_status', native_enum=False, create_constraint=True), server_default='active', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("code ~ '^[0-9]{24}[0-9X]$'", name=op.f('ck_houses_code_format')),
    sa.CheckConstraint('area_m2 IS NULL OR area_m2 > 0', name=op.f('ck_houses_area_positive')),
    sa.CheckConstraint('unit BETWEEN 1 AND 99999', name=op.f('ck_houses_unit_range')),
    sa.ForeignKeyConstraint(['building_uid'], ['buildings.uid'], name=op.f('fk_houses_building_uid_buildings')),
    sa.PrimaryKeyConstraint('uid', name=op.f('pk_houses')),
    sa.UniqueConstraint('building_uid', 'unit', name=op.f('uq_houses_building_uid_unit')),
    sa.UniqueConstraint('code', name=op.f('uq_houses_code'))
    )
    op.create_table('lineage',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('parent_code', sa.String(length=25), nullable=False),
    sa.Column('child_code', sa.String(length=25), nullable=False),
    sa.Column('event', sa.Enum('split', 'merge', 'replace', name='lineage_event', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('happened_on', sa.Date(), server_default=sa.text('CURRENT_DATE'), nullable=False),
    sa.Column('batch_id', sa.BigInteger(), nullable=True),
    sa.CheckConstraint('parent_code <> child_code', name=op.f('ck_lineage_not_self')),
    sa.ForeignKeyConstraint(['batch_id'], ['import_batches.id'], name=op.f('fk_lineage_batch_id_import_batches')),
    sa.ForeignKeyConstraint(['child_code'], ['buildings.code'], name=op.f('fk_lineage_child_code_buildings')),
    sa.ForeignKeyConstraint(['parent_code'], ['buildings.code'], name=op.f('fk_lineage_parent_code_buildings')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lineage'))
    )
    op.create_index(op.f('ix_lineage_child_code'), 'lineage', ['child_code'], unique=False)
    op.create_index(op.f('ix_lineage_parent_code'), 'lineage', ['parent_code'], unique=False)
    op.create_table('organizations',
    sa.Column('uid', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('credit_code', sa.String(length=18), nullable=True),
    sa.Column('kind', sa.String(length=50), nullable=True),
    sa.Column('house_uid', sa.Uuid(), nullable=True),
    sa.Column('district_code', sa.String(length=6), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("credit_code ~ '^[0-9A-HJ-NPQRTUWXY]{18}$'", name=op.f('ck_organizations_credit_code_format')),
    sa.ForeignKeyConstraint(['house_uid'], ['houses.uid'], name=op.f('fk_organizations_house_uid_houses')),
    sa.PrimaryKeyConstraint('uid', name=op.f('pk_organizations')),
    sa.UniqueConstraint('credit_code', name=op.f('uq_organizations_credit_code'))
    )
    op.create_index(op.f('ix_organizations_district_code'), 'organizations', ['district_code'], unique=False)
    op.create_index(op.f('ix_organizations_house_uid'), 'organizations', ['house_uid'], unique=False)
    op.create_table('people',
    sa.Column('uid', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('id_number_enc', sa.LargeBinary(), nullable=True),
    sa.Column('id_number_hash', sa.LargeBinary(), nullable=True),
    sa.Column('phone_enc', sa.LargeBinary(), nullable=True),
    sa.Column('phone_hash', sa.LargeBinary(), nullable=True),
    sa.Column('sex', sa.String(length=1), nullable=True),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('hukou_division_code', sa.String(length=12), nullable=True),
    sa.Column('hukou_address', sa.Text(), nullable=True),
    sa.Column('category', sa.Enum('hukou', 'floating', 'overseas', name='person_category', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('occupation', sa.String(length=100), nullable=True),
    sa.Column('education', sa.String(length=50), nullable=True),
    sa.Column('employer_uid', sa.Uuid(), nullable=True),
    sa.Column('is_key_person', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('district_code', sa.String(length=6), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("sex IN ('M', 'F')", name=op.f('ck_people_sex_value')),
    sa.ForeignKeyConstraint(['employer_uid'], ['organizations.uid'], name=op.f('fk_people_employer_uid_organizations')),
    sa.PrimaryKeyConstraint('uid', name=op.f('pk_people'))
    )
    op.create_index(op.f('ix_people_district_code'), 'people', ['district_code'], unique=False)
    op.create_index(op.f('ix_people_id_number_hash'), 'people', ['id_number_hash'], unique=False)
    op.create_index(op.f('ix_people_phone_hash'), 'people', ['phone_hash'], unique=False)
    op.create_table('residences',
    sa.Column('uid', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('person_uid', sa.Uuid(), nullable=False),
    sa.Column('house_uid', sa.Uuid(), nullable=False),
    sa.Column('period', postgresql.DATERANGE(), nullable=False),
    sa.Column('kind', sa.Enum('owner', 'family', 'tenant', 'dormitory', 'temporary', name='residence_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('is_primary', sa.Boolean(), server_default='true', nullable=False),
    sa.Column('declared_by', sa.Enum('self', 'landlord', 'employer', 'officer', name='declared_by', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('declared_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('registered_by', sa.String(length=64), nullable=True),
    sa.Column('deregistered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    postgresql.ExcludeConstraint((sa.column('person_uid'), '='), (sa.column('period'), '&&'), where=sa.text('is_primary'), using='gist', name='residences_one_primary_at_a_time'),
    sa.CheckConstraint('NOT isempty(period)', name=op.f('ck_residences_period_not_empty')),
    sa.ForeignKeyConstraint(['house_uid'], ['houses.uid'], name=op.f('fk_residences_house_uid_houses')),
    sa.ForeignKeyConstraint(['person_uid'], ['people.uid'], name=op.f('fk_residences_person_uid_people')),
    sa.PrimaryKeyConstraint('uid', name=op.f('pk_residences'))
    )
    op.create_index(op.f('ix_residences_house_uid'), 'residences', ['house_uid'], unique=False)
    op.create_index(op.f('ix_residences_person_uid'), 'residences', ['person_uid'], unique=False)
    # houses ↔ people ↔ organizations form a cycle: this key is added once both tables exist
    op.create_foreign_key(op.f('fk_houses_landlord_uid_people'), 'houses', 'people', ['landlord_uid'], ['uid'])


def downgrade() -> None:
    # The postgis and btree_gist extensions stay: other schemas on the server may use them.
    op.drop_constraint(op.f('fk_houses_landlord_uid_people'), 'houses', type_='foreignkey')
    op.drop_index(op.f('ix_residences_person_uid'), table_name='residences')
    op.drop_index(op.f('ix_residences_house_uid'), table_name='residences')
    op.drop_table('residences')
    op.drop_index(op.f('ix_people_phone_hash'), table_name='people')
    op.drop_index(op.f('ix_people_id_number_hash'), table_name='people')
    op.drop_index(op.f('ix_people_district_code'), table_name='people')
    op.drop_table('people')
    op.drop_index(op.f('ix_organizations_house_uid'), table_name='organizations')
    op.drop_index(op.f('ix_organizations_district_code'), table_name='organizations')
    op.drop_table('organizations')
    op.drop_index(op.f('ix_lineage_parent_code'), table_name='lineage')
    op.drop_index(op.f('ix_lineage_child_code'), table_name='lineage')
    op.drop_table('lineage')
    op.drop_table('houses')
    op.drop_geospatial_index('idx_building_footprints_geom', table_name='building_footprints', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('building_footprints')
    op.drop_index(op.f('ix_import_changes_batch_id'), table_name='import_changes')
    op.drop_table('import_changes')
    op.drop_index(op.f('ix_grids_district_code'), table_name='grids')
    op.drop_index(op.f('ix_grids_code'), table_name='grids')
    op.drop_geospatial_index('idx_grids_geom', table_name='grids', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('grids')
    op.drop_table('grid_code_counters')
    op.drop_index(op.f('ix_buildings_status'), table_name='buildings')
    op.drop_index(op.f('ix_buildings_district_code'), table_name='buildings')
    op.drop_geospatial_index('idx_buildings_geom', table_name='buildings', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('buildings')
    op.drop_table('building_code_counters')
    op.drop_table('users')
    op.drop_table('import_batches')
    op.drop_index(op.f('ix_divisions_parent_code'), table_name='divisions')
    op.drop_geospatial_index('idx_divisions_geom', table_name='divisions', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('divisions')
    op.drop_index(op.f('ix_audit_log_user_name'), table_name='audit_log')
    op.drop_geospatial_index('idx_audit_log_query_geom', table_name='audit_log', postgresql_using='gist', column_name='query_geom')
    op.drop_geospatial_table('audit_log')
