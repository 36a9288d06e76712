"""Marshmallow fields of /api/v1: strict JSON types checked by the rules in validation.py."""
from __future__ import annotations

from datetime import datetime, timezone

from marshmallow import ValidationError, fields

from ... import validation as rules
from ...services.history import Cursor

_MESSAGES = {"required": "is required", "null": "must not be null"}


def _checked(rule, value):
    try:
        return rule(value)
    except rules.FieldError as exc:
        raise ValidationError(str(exc)) from None


class UtcDateTime(fields.AwareDateTime):
    """Out: "2026-12-04T15:30:04.123456+00:00" (UTC, always microseconds); in: naive means UTC."""

    default_error_messages = {"invalid": "is not an ISO-8601 date-time"}

    def __init__(self, **kwargs):
        super().__init__(format="iso", default_timezone=timezone.utc, **kwargs)

    def _serialize(self, value: datetime | None, attr, obj, **kwargs):
        if value is None:
            return None
        return value.astimezone(timezone.utc).isoformat(timespec="microseconds")


class StrictInteger(fields.Integer):
    """A JSON integer (not a string, float or boolean) that passes a validation.py rule."""

    default_error_messages = {**_MESSAGES, "invalid": "must be an integer"}

    def __init__(self, rule=None, **kwargs):
        super().__init__(strict=True, **kwargs)
        self.rule = rule

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise self.make_error("invalid")
        number = super()._deserialize(value, attr, data, **kwargs)
        return _checked(self.rule, number) if self.rule else number


class StrictNumber(fields.Float):
    """A JSON number (not a string or boolean) that passes a validation.py rule."""

    default_error_messages = {**_MESSAGES, "invalid": "must be a number"}

    def __init__(self, rule, **kwargs):
        super().__init__(allow_nan=True, **kwargs)  # the rule names NaN and infinities itself
        self.rule = rule

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.make_error("invalid")
        try:
            number = float(value)
        except OverflowError:  # an integer too large for a double: infinite for our purposes
            raise ValidationError("must be a finite number") from None
        return _checked(self.rule, number)


class RuleString(fields.String):
    """A JSON string that passes a validation.py rule; "" and null mean 'not given'."""

    default_error_messages = {**_MESSAGES, "invalid": "must be a string"}

    def __init__(self, rule, **kwargs):
        super().__init__(allow_none=True, load_default=None, **kwargs)
        self.rule = rule

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        return _checked(self.rule, text) if text else None


class CursorField(fields.String):
    """The opaque `next` token of the previous page."""

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return Cursor.decode(super()._deserialize(value, attr, data, **kwargs))
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
