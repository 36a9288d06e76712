"""Marshmallow schemas: what comes in and what goes out."""
from __future__ import annotations

from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, validates_schema

from . import validation as rules
from .services.ingest import Upload

#: The original client's keys, in the order the original validated them (first failure wins).
LEGACY_KEYS = ("patient_mrn", "room_number", "patient_name", "CPAP_pressure", "breath_rate",
               "apnea_count", "flow_image")
MISSING_MESSAGE = "is missing from input"


class _LegacyField(fields.Field):
    """A legacy value: "" means 'not given' (None) unless the field is required to be non-empty."""

    default_error_messages = {"required": MISSING_MESSAGE, "null": "has the incorrect value type"}

    def __init__(self, parse, check, *, non_empty: bool = False,
                 null_message: str = "is not an int or numeric string", **kwargs):
        super().__init__(required=True, error_messages={"null": null_message}, **kwargs)
        self.parse, self.check, self.non_empty = parse, check, non_empty

    def _deserialize(self, value, attr, data, **kwargs):
        if value == "":
            if self.non_empty:
                raise ValidationError("must not be empty")
            return None
        try:
            return self.check(self.parse(value))
        except rules.FieldError as exc:
            raise ValidationError(str(exc)) from None


def _text(value):
    if not isinstance(value, str):
        raise rules.FieldError("has the incorrect value type")
    return value


def _image_text(value):
    if "\x00" in _text(value):
        raise rules.FieldError("is not a base64 JPEG or PNG image")
    return value


class LegacyUploadSchema(Schema):
    """POST /add_patient body, with the original client's loose types ("12", "14.53", "")."""

    class Meta:
        unknown = EXCLUDE

    patient_mrn = _LegacyField(rules.int_from_legacy, rules.mrn, non_empty=True)
    room_number = _LegacyField(rules.int_from_legacy, rules.room_number, non_empty=True)
    patient_name = _LegacyField(_text, rules.patient_name,
                                null_message="has the incorrect value type")
    CPAP_pressure = _LegacyField(rules.int_from_legacy, rules.cpap_pressure)
    breath_rate = _LegacyField(rules.float_from_legacy, rules.breath_rate)
    apnea_count = _LegacyField(rules.int_from_legacy, rules.apnea_count)
    flow_image = _LegacyField(_image_text, rules.flow_image,
                              null_message="has the incorrect value type")

    @validates_schema(skip_on_field_errors=False)
    def apnea_count_with_measurement(self, data, **kwargs):
        """A recorded measurement needs its apnea count."""
        if (data.get("CPAP_pressure") is not None and data.get("breath_rate") is not None
                and data.get("apnea_count") is None and "apnea_count" in data):
            raise ValidationError("is required when CPAP_pressure and breath_rate are given",
                                  "apnea_count")

    @post_load
    def to_upload(self, data, **kwargs) -> Upload:
        """Build the service's typed argument."""
        image = data.get("flow_image")
        return Upload(mrn=data["patient_mrn"], room_number=data["room_number"],
                      patient_name=data.get("patient_name"),
                      cpap_pressure=data.get("CPAP_pressure"), breath_rate=data.get("breath_rate"),
                      apnea_count=data.get("apnea_count"),
                      image=image[0] if image else None, image_type=image[1] if image else None)


legacy_upload_schema = LegacyUploadSchema()
_LEGACY_FIELDS = [(key, legacy_upload_schema.fields[key]) for key in LEGACY_KEYS]


def quick_legacy_upload(body: dict) -> Upload | None:
    """The bedside client's usual upload - every key given, none empty - without marshmallow.

    Each value goes through its field's own parse and check, so what is accepted and the Upload
    built are the schema's (a property test compares them); None for anything else (a missing,
    null or empty key, a value a rule refuses), which the schema then reports in the original's
    words. Marshmallow's generic load was about a tenth of an upload's CPU.
    """
    values = {}
    for key, field in _LEGACY_FIELDS:
        value = body.get(key)
        if value is None or value == "":
            return None
        try:
            values[key] = field.check(field.parse(value))
        except rules.FieldError:
            return None
    return legacy_upload_schema.to_upload(values)


def load_legacy_upload(body) -> Upload:
    """Validate a legacy body; raises ValueError with the original's one-line message."""
    if not isinstance(body, dict):
        raise ValueError("Input is not a dictionary")
    upload = quick_legacy_upload(body)
    if upload is not None:
        return upload
    try:
        return legacy_upload_schema.load(body)
    except ValidationError as exc:
        messages = exc.normalized_messages()
        for key in LEGACY_KEYS:
            if key in messages:
                return _raise_for(key, messages[key])
        raise ValueError("Input is not a dictionary") from None


def _raise_for(key: str, messages) -> None:
    message = messages[0] if isinstance(messages, list) else str(messages)
    raise ValueError(f"Key {key} {message}")
