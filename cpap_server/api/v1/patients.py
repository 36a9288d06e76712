"""/api/v1/patients: a patient's stays and full history, reachable after turnover and discharge."""
from __future__ import annotations

from ...db import db
from ...services import history
from .core import Blueprint
from .schemas import HistoryQuerySchema, MeasurementPageSchema, NoQuerySchema, PatientSchema

blp = Blueprint("patients", __name__, url_prefix="/api/v1",
                description="Patients: stays and history across rooms")


@blp.get("/patients/<int:mrn>")
@blp.arguments(NoQuerySchema(), location="query", as_kwargs=True)
@blp.response(200, PatientSchema)
@blp.error(404, "Unknown patient")
def get_patient(mrn):
    """Get a patient with every stay, newest first"""
    return history.patient_record(db.session, mrn)


@blp.get("/patients/<int:mrn>/measurements")
@blp.arguments(HistoryQuerySchema(), location="query")
@blp.response(200, MeasurementPageSchema)
@blp.error(404, "Unknown patient")
def list_patient_measurements(window, mrn):
    """Page through every stay's measurements, newest first (keyset cursor as for rooms)"""
    return history.patient_measurements(db.session, mrn, window)
