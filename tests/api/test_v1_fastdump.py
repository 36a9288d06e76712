"""The compiled dumps write exactly what marshmallow's own dump writes, for every /api/v1 shape."""
from datetime import datetime, timedelta, timezone

import pytest
from marshmallow import Schema

from cpap_server.api.v1 import schemas
from cpap_server.services.commands import Command
from cpap_server.services.history import Cursor, MeasurementView, Page, PatientRecord, StayView
from cpap_server.services.ingest import IngestResult
from cpap_server.services.rooms import Occupant, RoomView

T = datetime(2026, 12, 4, 15, 30, 4, 123456, tzinfo=timezone.utc)
LOCAL = datetime(2026, 12, 4, 16, 30, 4, 5, tzinfo=timezone(timedelta(hours=1)))


def measurement(i=1, image=True):
    return MeasurementView(id=i, room_number=7, patient_mrn=2**40, stay_id=3, recorded_at=T,
                           cpap_pressure=12, breath_rate=14.53, apnea_count=2, has_image=image)


ROOMS = [
    RoomView(1, None, None, None),
    RoomView(2, Occupant(5, None, 9, LOCAL), None, Command(2, 14, T)),
    RoomView(3, Occupant(6, "Ann", 10, T), measurement(1), None),
    RoomView(4, Occupant(7, "Bo", 11, T), measurement(2, image=False), Command(4, 4, LOCAL)),
]

CASES = [
    (schemas.RoomListSchema(), {"rooms": ROOMS}),
    (schemas.RoomSchema(), ROOMS[2]),
    (schemas.MeasurementPageSchema(), Page([measurement(1), measurement(2, False)], Cursor(T, 2))),
    (schemas.MeasurementPageSchema(), Page([], None)),
    (schemas.TimestampsSchema(), {"timestamps": [T, LOCAL]}),
    (schemas.PatientSchema(), PatientRecord(5, "Ann", [StayView(1, 2, T, None, 0),
                                                       StayView(2, 3, T, LOCAL, 9)])),
    (schemas.RoomCommandSchema(), Command(2, 14, T)),
    (schemas.IngestResultSchema(), IngestResult("appended", False, 3, 99)),
]


@pytest.mark.parametrize("schema, obj", CASES, ids=lambda c: type(c).__name__)
def test_compiled_dump_equals_marshmallows_dump(app, schema, obj):
    with app.test_request_context():
        assert schema.dump(obj) == Schema.dump(schema, obj)


def test_the_room_list_really_takes_the_compiled_path(app):
    schema = schemas.RoomListSchema()
    with app.test_request_context():
        schema.dump({"rooms": ROOMS})
    assert schema._compiled is not None and schema._compiled.__name__ == "dump"


def test_batch_results_leave_out_the_keys_that_do_not_apply(app):
    from cpap_server.services.batch import ItemResult

    results = [ItemResult(0, "created", id=7, stay_id=3, outcome="appended"),
               ItemResult(1, "error", errors={"mrn": ["must be an integer"]})]
    with app.test_request_context():
        dumped = schemas.BatchResultSchema().dump({"results": results})
    assert dumped == {"results": [
        {"index": 0, "status": "created", "id": 7, "outcome": "appended"},
        {"index": 1, "status": "error", "errors": {"mrn": ["must be an integer"]}}]}
