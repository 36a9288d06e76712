"""Field rules shared by every write route: a failure says what is wrong; callers name the field."""
from __future__ import annotations

import base64
import binascii
import math
import re

from .models import NAME_MAX, PRESSURE_MAX, PRESSURE_MIN

INT4_MAX = 2**31 - 1
INT8_MAX = 2**63 - 1
_INT_TEXT = re.compile(r"-?[0-9]{1,30}")
_MAGIC = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"))


class FieldError(ValueError):
    """A value broke a rule; str(error) completes the sentence 'Key <k> ...'."""


def int_from_legacy(value) -> int:
    """Accept an int or a string of ASCII digits (optionally signed), as bedside clients send."""
    if isinstance(value, bool):
        raise FieldError("is not an int or numeric string")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _INT_TEXT.fullmatch(value):
        return int(value)
    raise FieldError("is not an int or numeric string")


def float_from_legacy(value) -> float:
    """Accept a number or anything float() parses, like the original; reject NaN and infinities."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise FieldError("is not an int or numeric string")
    if isinstance(value, str) and ("\x00" in value or len(value) > 64):
        raise FieldError("is not an int or numeric string")
    try:
        number = float(value)
    except OverflowError:
        raise FieldError("must be a finite number") from None
    except ValueError:
        raise FieldError("is not an int or numeric string") from None
    return number


def positive_id(value: int, maximum: int) -> int:
    """MRNs and room numbers: 1..maximum."""
    if value <= 0:
        raise FieldError("must be a positive integer")
    if value > maximum:
        raise FieldError(f"must be at most {maximum}")
    return value


def mrn(value: int) -> int:
    """A medical record number fits a positive bigint."""
    return positive_id(value, INT8_MAX)


def room_number(value: int) -> int:
    """A room number fits a positive integer column."""
    return positive_id(value, INT4_MAX)


def cpap_pressure(value: int) -> int:
    """CPAP pressure in cmH2O, 4..25."""
    if not PRESSURE_MIN <= value <= PRESSURE_MAX:
        raise FieldError(f"must be between {PRESSURE_MIN} and {PRESSURE_MAX}")
    return value


def breath_rate(value: float) -> float:
    """Breaths per minute: finite and not negative."""
    if not math.isfinite(value):
        raise FieldError("must be a finite number")
    if value < 0:
        raise FieldError("must not be negative")
    return float(value)


def apnea_count(value: int) -> int:
    """Apneas in a session: 0..2^31-1."""
    if value < 0:
        raise FieldError("must not be negative")
    if value > INT4_MAX:
        raise FieldError(f"must be at most {INT4_MAX}")
    return value


def patient_name(value: str) -> str | None:
    """Trimmed name, at most 200 characters; empty means 'keep the stored name' (None)."""
    if "\x00" in value:
        raise FieldError("must not contain NUL characters")
    if not value.isascii():
        try:  # JSON's "\ud800" escapes decode to lone surrogates, which no database can store
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise FieldError("must be valid Unicode text (no unpaired surrogates)") from None
    value = value.strip()
    if len(value) > NAME_MAX:
        raise FieldError(f"must be at most {NAME_MAX} characters")
    return value or None


def flow_image(value: str) -> tuple[bytes, str]:
    """Decode a base64 JPEG or PNG; returns (bytes, media type)."""
    try:
        data = base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        raise FieldError("is not a base64 JPEG or PNG image") from None
    for magic, media_type in _MAGIC:
        if data.startswith(magic):
            return data, media_type
    raise FieldError("is not a base64 JPEG or PNG image")
