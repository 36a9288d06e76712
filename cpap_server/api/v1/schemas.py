"""/api/v1 schemas: strict JSON in, ISO-8601 UTC timestamps out; field rules from validation.py."""
from __future__ import annotations

from flask import g, url_for
from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from ... import validation as rules
from ...services.history import DEFAULT_LIMIT, MAX_LIMIT, Window
from ...services.batch import MAX_ITEMS as MAX_BATCH_ITEMS
from ...services.ingest import Upload
from .fastdump import FastDumpSchema
from .fields import CursorField, RuleString, StrictInteger, StrictNumber, UtcDateTime


class ErrorSchema(Schema):
    """Every error under /api/v1 (and the app's non-legacy errors)."""

    code = fields.Integer(required=True, metadata={"description": "HTTP status", "example": 422})
    message = fields.String(required=True, metadata={"example": "Invalid mrn"})
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()),
                         metadata={"description": "Messages by field (or query parameter)",
                                   "example": {"mrn": ["must be a positive integer"]}})


class BodySchema(Schema):
    """A JSON body: unknown keys are refused (marshmallow's default), with our wording."""

    error_messages = {"unknown": "is not a known field"}


class QuerySchema(Schema):
    """Query parameters: unknown ones are refused (our parser raises for the query location)."""

    error_messages = {"unknown": "is not a known query parameter"}


class NoQuerySchema(QuerySchema):
    """Routes without query parameters still reject unknown ones."""


class HistoryQuerySchema(QuerySchema):
    """Paging and filters of a measurement history."""

    limit = fields.Integer(load_default=DEFAULT_LIMIT, validate=validate.Range(1, MAX_LIMIT),
                           metadata={"description": f"Page size, 1..{MAX_LIMIT}"})
    cursor = CursorField(metadata={"description": "The `next` of the previous page"})
    since = UtcDateTime(metadata={"description": "Only measurements at or after (ISO-8601)"})
    until = UtcDateTime(metadata={"description": "Only measurements before (ISO-8601)"})

    @validates_schema
    def until_after_since(self, data, **kwargs):
        """An empty or inverted interval is a mistake worth naming."""
        if data.get("since") and data.get("until") and data["until"] <= data["since"]:
            raise ValidationError("must be after since", "until")

    @post_load
    def to_window(self, data, **kwargs) -> Window:
        """The service's typed argument."""
        return Window(**data)


class MeasurementUploadSchema(BodySchema):
    """POST /api/v1/measurements: the /add_patient upload with strict JSON types."""

    mrn = StrictInteger(rules.mrn, required=True, metadata={"example": 1001})
    room_number = StrictInteger(rules.room_number, required=True, metadata={"example": 12})
    patient_name = RuleString(rules.patient_name, metadata={
        "description": "Empty or absent keeps the stored name", "example": "Jane Doe"})
    cpap_pressure = StrictInteger(rules.cpap_pressure, required=True,
                                  metadata={"description": "cmH2O, 4..25", "example": 12})
    breath_rate = StrictNumber(rules.breath_rate, required=True,
                               metadata={"description": "Breaths per minute", "example": 14.53})
    apnea_count = StrictInteger(rules.apnea_count, required=True, metadata={"example": 1})
    flow_image = RuleString(rules.flow_image, metadata={
        "description": "Base64 JPEG or PNG of the flow curve"})
    client_uuid = fields.UUID(allow_none=True, load_default=None, error_messages={
        "invalid_uuid": "must be a UUID"}, metadata={"description": "Idempotency key"})

    @post_load
    def to_upload(self, data, **kwargs) -> Upload:
        """Build the ingest service's argument."""
        image = data["flow_image"]
        return Upload(mrn=data["mrn"], room_number=data["room_number"],
                      patient_name=data["patient_name"], cpap_pressure=data["cpap_pressure"],
                      breath_rate=data["breath_rate"], apnea_count=data["apnea_count"],
                      image=image[0] if image else None, image_type=image[1] if image else None,
                      client_uuid=data["client_uuid"])


_QUICK_REQUIRED = frozenset({"mrn", "room_number", "cpap_pressure", "breath_rate", "apnea_count"})
_QUICK_ALLOWED = _QUICK_REQUIRED | {"patient_name"}


def quick_upload(item: dict) -> Upload | None:
    """The common valid item (plain numbers, maybe a name) checked without marshmallow.

    Batches of 1,000 spent half their CPU in the per-item schema load. This accepts only what
    MeasurementUploadSchema accepts, through the same rules, and returns the same Upload (a
    property test compares them); anything else (None) goes through the schema, so every error
    message still comes from it.
    """
    keys = item.keys()
    if not (_QUICK_REQUIRED <= keys <= _QUICK_ALLOWED):
        return None
    mrn, room, pressure, apnea = (item["mrn"], item["room_number"], item["cpap_pressure"],
                                  item["apnea_count"])
    rate, name = item["breath_rate"], item.get("patient_name")
    if not (type(mrn) is type(room) is type(pressure) is type(apnea) is int
            and type(rate) in (int, float) and (name is None or type(name) is str)):
        return None
    try:
        return Upload(mrn=rules.mrn(mrn), room_number=rules.room_number(room),
                      patient_name=rules.patient_name(name) if name else None,
                      cpap_pressure=rules.cpap_pressure(pressure),
                      breath_rate=rules.breath_rate(float(rate)),
                      apnea_count=rules.apnea_count(apnea))
    except (rules.FieldError, OverflowError):
        return None


class IngestResultSchema(FastDumpSchema):
    """What an upload did."""

    id = fields.Integer(attribute="measurement_id", metadata={"description": "Measurement id"})
    stay_id = fields.Integer()
    outcome = fields.String(metadata={"enum": ["created", "appended", "turnover", "transfer",
                                               "duplicate"]})


class BatchSchema(BodySchema):
    """POST /api/v1/measurements/batch: items are checked one by one; a bad item fails alone."""

    items = fields.List(fields.Raw(allow_none=True), required=True, validate=validate.Length(
        min=1, max=MAX_BATCH_ITEMS, error=f"must hold 1 to {MAX_BATCH_ITEMS} items"),
        metadata={"description": f"Up to {MAX_BATCH_ITEMS} uploads shaped like "
                                 "POST /api/v1/measurements"})


class BatchItemResultSchema(FastDumpSchema):
    """One item's answer, in input order."""

    index = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"enum": ["created", "duplicate", "error"]})
    id = fields.Integer(metadata={"description": "Measurement id (created or duplicate)"})
    outcome = fields.String(metadata={"enum": ["created", "appended", "turnover", "transfer",
                                               "duplicate"]})
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))

    #: Absent, not null: keys that do not apply to the item's status are left out.
    OMIT_NONE = True


class BatchResultSchema(FastDumpSchema):
    """The batch answer."""

    results = fields.List(fields.Nested(BatchItemResultSchema), required=True)


class MeasurementSchema(FastDumpSchema):
    """One recording session."""

    id = fields.Integer()
    room_number = fields.Integer()
    patient_mrn = fields.Integer()
    stay_id = fields.Integer()
    recorded_at = UtcDateTime()
    cpap_pressure = fields.Integer()
    breath_rate = fields.Float()
    apnea_count = fields.Integer()
    flow_image_url = fields.Method("image_url", allow_none=True, metadata={
        "type": "string", "description": "Path of the image; null when there is none"})

    def image_url(self, measurement) -> str | None:
        """Where the image is served, relative to the server."""
        if not measurement.has_image:
            return None
        # url_for once per request, not once per row: it halves the cost of a 1000-row page.
        if "flow_image_url" not in g:
            path = url_for("measurements.get_flow_image", measurement_id=0)
            g.flow_image_url = path.replace("/0/flow-image", "/{}/flow-image")
        return g.flow_image_url.format(measurement.id)


class MeasurementPageSchema(FastDumpSchema):
    """A page of measurements, newest first."""

    items = fields.List(fields.Nested(MeasurementSchema))
    next = fields.Method("next_token", allow_none=True, metadata={
        "type": "string", "description": "Pass as `cursor` for the next page; null at the end"})

    def next_token(self, page) -> str | None:
        """The opaque cursor."""
        return page.next.encode() if page.next else None


class TimestampsSchema(FastDumpSchema):
    """The station's picker: recording times, newest first."""

    timestamps = fields.List(UtcDateTime())


class OccupantSchema(FastDumpSchema):
    """The patient of a room's active stay."""

    mrn = fields.Integer()
    name = fields.String(allow_none=True)
    stay_id = fields.Integer()
    stay_started_at = UtcDateTime()


class CommandSchema(FastDumpSchema):
    """A commanded pressure."""

    cpap_pressure = fields.Integer()
    commanded_at = UtcDateTime()


class RoomCommandSchema(CommandSchema):
    """A commanded pressure with its room."""

    room_number = fields.Integer()


class PressureCommandInSchema(BodySchema):
    """PUT body of a pressure command."""

    cpap_pressure = StrictInteger(rules.cpap_pressure, required=True,
                                  metadata={"description": "cmH2O, 4..25", "example": 12})


class RoomSchema(FastDumpSchema):
    """A room as the monitoring station shows it."""

    room_number = fields.Integer()
    patient = fields.Nested(OccupantSchema, allow_none=True)
    latest_measurement = fields.Nested(MeasurementSchema, allow_none=True)
    commanded_cpap_pressure = fields.Nested(CommandSchema, allow_none=True)


class RoomListSchema(FastDumpSchema):
    """Every room, in room order."""

    rooms = fields.List(fields.Nested(RoomSchema))


class StaySchema(FastDumpSchema):
    """One stay of a patient."""

    id = fields.Integer()
    room_number = fields.Integer()
    started_at = UtcDateTime()
    ended_at = UtcDateTime(allow_none=True)
    measurement_count = fields.Integer()


class PatientSchema(FastDumpSchema):
    """A patient and every stay, newest first."""

    mrn = fields.Integer()
    name = fields.String(allow_none=True)
    stays = fields.List(fields.Nested(StaySchema))
