"""Initial schema: rooms, patients, stays, measurements, flow_images with their invariants.

Revision ID: 0001
Revises: 
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('patients',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('mrn', sa.BigInteger(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('char_length(name) BETWEEN 1 AND 200', name=op.f('ck_patients_name_length')),
    sa.CheckConstraint('mrn > 0', name=op.f('ck_patients_mrn_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patients')),
    sa.UniqueConstraint('mrn', name=op.f('uq_patients_mrn'))
    )
    op.create_table('rooms',
    sa.Column('room_number', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('commanded_cpap_pressure', sa.SmallInteger(), nullable=True),
    sa.Column('commanded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('commanded_by', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('(commanded_cpap_pressure IS NULL) = (commanded_at IS NULL)', name=op.f('ck_rooms_commanded_pair')),
    sa.CheckConstraint('commanded_cpap_pressure BETWEEN 4 AND 25', name=op.f('ck_rooms_commanded_cpap_pressure_range')),
    sa.CheckConstraint('room_number > 0', name=op.f('ck_rooms_room_number_positive')),
    sa.PrimaryKeyConstraint('room_number', name=op.f('pk_rooms'))
    )
    op.create_table('stays',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('room_number', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.BigInteger(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('ended_at IS NULL OR ended_at >= started_at', name=op.f('ck_stays_ended_after_started')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_stays_patient_id_patients')),
    sa.ForeignKeyConstraint(['room_number'], ['rooms.room_number'], name=op.f('fk_stays_room_number_rooms')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stays')),
    sa.UniqueConstraint('id', 'room_number', name=op.f('uq_stays_id_room_number'))
    )
    op.create_index('ix_stays_patient_id_started_at', 'stays', ['patient_id', 'started_at'], unique=False)
    op.create_index('ix_stays_room_number_started_at', 'stays', ['room_number', 'started_at'], unique=False)
    op.create_index('uq_stays_active_patient', 'stays', ['patient_id'], unique=True, postgresql_where=sa.text('ended_at IS NULL'))
    op.create_index('uq_stays_active_room', 'stays', ['room_number'], unique=True, postgresql_where=sa.text('ended_at IS NULL'))
    op.create_table('measurements',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('stay_id', sa.BigInteger(), nullable=False),
    sa.Column('room_number', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('cpap_pressure', sa.SmallInteger(), nullable=False),
    sa.Column('breath_rate', sa.Double(), nullable=False),
    sa.Column('apnea_count', sa.Integer(), nullable=False),
    sa.Column('client_uuid', sa.UUID(), nullable=True),
    sa.Column('created_by', sa.Text(), nullable=True),
    sa.Column('request_id', sa.Text(), nullable=True),
    sa.CheckConstraint("breath_rate >= 0 AND breath_rate < 'Infinity'::float8", name=op.f('ck_measurements_breath_rate_finite_nonnegative')),
    sa.CheckConstraint('apnea_count >= 0', name=op.f('ck_measurements_apnea_count_nonnegative')),
    sa.CheckConstraint('cpap_pressure BETWEEN 4 AND 25', name=op.f('ck_measurements_cpap_pressure_range')),
    sa.ForeignKeyConstraint(['stay_id', 'room_number'], ['stays.id', 'stays.room_number'], name='fk_measurements_stay_room'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_measurements')),
    sa.UniqueConstraint('client_uuid', name=op.f('uq_measurements_client_uuid'))
    )
    op.create_index('ix_measurements_room_number_recorded_at', 'measurements', ['room_number', 'recorded_at'], unique=False)
    op.create_index('ix_measurements_stay_id_recorded_at', 'measurements', ['stay_id', 'recorded_at', 'id'], unique=False)
    op.create_table('flow_images',
    sa.Column('measurement_id', sa.BigInteger(), nullable=False),
    sa.Column('room_number', sa.Integer(), nullable=False),
    sa.Column('media_type', sa.Text(), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.LargeBinary(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.CheckConstraint("media_type IN ('image/jpeg', 'image/png')", name=op.f('ck_flow_images_media_type_known')),
    sa.CheckConstraint('octet_length(sha256) = 32', name=op.f('ck_flow_images_sha256_length')),
    sa.CheckConstraint('size_bytes = octet_length(data)', name=op.f('ck_flow_images_size_matches')),
    sa.ForeignKeyConstraint(['measurement_id'], ['measurements.id'], name=op.f('fk_flow_images_measurement_id_measurements'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('measurement_id', name=op.f('pk_flow_images'))
    )


def downgrade() -> None:
    op.drop_table('flow_images')
    op.drop_index('ix_measurements_stay_id_recorded_at', table_name='measurements')
    op.drop_index('ix_measurements_room_number_recorded_at', table_name='measurements')
    op.drop_table('measurements')
    op.drop_index('uq_stays_active_room', table_name='stays', postgresql_where=sa.text('ended_at IS NULL'))
    op.drop_index('uq_stays_active_patient', table_name='stays', postgresql_where=sa.text('ended_at IS NULL'))
    op.drop_index('ix_stays_room_number_started_at', table_name='stays')
    op.drop_index('ix_stays_patient_id_started_at', table_name='stays')
    op.drop_table('stays')
    op.drop_table('rooms')
    op.drop_table('patients')
