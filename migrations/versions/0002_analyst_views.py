"""Analyst views (measurement_history, stay_summary) and the read-only role cpap_analyst.

Revision ID: 0002
Revises: 0001
"""
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

ROLE = "cpap_analyst"
TABLES = ("rooms", "patients", "stays", "measurements")
VIEWS = ("measurement_history", "stay_summary")
#: Everything about an image except its bytes.
IMAGE_COLUMNS = ("measurement_id", "room_number", "media_type", "size_bytes", "sha256")

MEASUREMENT_HISTORY = """
CREATE VIEW measurement_history AS
SELECT m.id AS measurement_id,
       m.room_number,
       p.mrn AS patient_mrn,
       p.name AS patient_name,
       s.id AS stay_id,
       s.started_at AS stay_started_at,
       s.ended_at AS stay_ended_at,
       m.recorded_at,
       m.cpap_pressure,
       m.breath_rate,
       m.apnea_count,
       EXISTS (SELECT 1 FROM flow_images f WHERE f.measurement_id = m.id) AS has_flow_image
FROM measurements m
JOIN stays s ON s.id = m.stay_id
JOIN patients p ON p.id = s.patient_id
"""

# LEFT JOIN: a stay without measurements still gets a row (count 0, NULL means).
STAY_SUMMARY = """
CREATE VIEW stay_summary AS
SELECT s.id AS stay_id,
       s.room_number,
       p.mrn AS patient_mrn,
       p.name AS patient_name,
       s.started_at,
       s.ended_at,
       count(m.id) AS measurement_count,
       min(m.recorded_at) AS first_recorded_at,
       max(m.recorded_at) AS last_recorded_at,
       avg(m.cpap_pressure)::double precision AS cpap_pressure_mean,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY m.cpap_pressure) AS cpap_pressure_p95,
       avg(m.breath_rate) AS breath_rate_mean,
       coalesce(sum(m.apnea_count), 0)::bigint AS apnea_total,
       count(m.id) FILTER (WHERE m.apnea_count >= 2) AS apnea_alert_sessions
FROM stays s
JOIN patients p ON p.id = s.patient_id
LEFT JOIN measurements m ON m.stay_id = s.id
GROUP BY s.id, p.id
"""

# Roles are cluster-wide and several databases may share a server: create only when missing,
# and tolerate a concurrent migration creating it first.
CREATE_ROLE = f"""
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{ROLE}') THEN
        CREATE ROLE {ROLE} NOLOGIN;
    END IF;
EXCEPTION
    WHEN duplicate_object OR unique_violation THEN
        NULL;
    WHEN insufficient_privilege THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = 'cannot create the role {ROLE}: ' || SQLERRM,
            HINT = 'Grant CREATEROLE to the migrating role, or have an administrator run '
                   '"CREATE ROLE {ROLE} NOLOGIN;" once on this server, then migrate again.';
END
$$
"""

# The role survives while another database still grants it something (DROP ROLE says so),
# or when the migrating role may not drop it (it was created by an administrator).
REVOKE_AND_DROP_ROLE = f"""
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{ROLE}') THEN
        RETURN;
    END IF;
    REVOKE ALL ON {", ".join(TABLES)}, flow_images FROM {ROLE};
    REVOKE ALL ON SCHEMA public FROM {ROLE};
    BEGIN
        DROP ROLE {ROLE};
    EXCEPTION
        WHEN dependent_objects_still_exist THEN
            RAISE NOTICE '{ROLE} is still used by another database; kept';
        WHEN insufficient_privilege THEN
            RAISE NOTICE '{ROLE} was not created by this role; kept';
    END;
END
$$
"""


def upgrade() -> None:
    op.execute(MEASUREMENT_HISTORY)
    op.execute(STAY_SUMMARY)
    op.execute(CREATE_ROLE)
    op.execute(f"GRANT USAGE ON SCHEMA public TO {ROLE}")
    op.execute(f"GRANT SELECT ON {', '.join(VIEWS + TABLES)} TO {ROLE}")
    op.execute(f"GRANT SELECT ({', '.join(IMAGE_COLUMNS)}) ON flow_images TO {ROLE}")


def downgrade() -> None:
    for view in reversed(VIEWS):
        op.execute(f"DROP VIEW IF EXISTS {view}")
    op.execute(REVOKE_AND_DROP_ROLE)
