"""An independent statement of the /add_patient rules, to judge what the server answered."""
from __future__ import annotations

import base64
import binascii
import math
import re

KEYS = ("patient_mrn", "room_number", "patient_name", "CPAP_pressure", "breath_rate",
        "apnea_count", "flow_image")
INT4_MAX, INT8_MAX = 2**31 - 1, 2**63 - 1
#: Integer ranges per key; MRN and room may not be "" (nothing to identify), the others may.
RANGES = {"patient_mrn": (1, INT8_MAX), "room_number": (1, INT4_MAX),
          "CPAP_pressure": (4, 25), "apnea_count": (0, INT4_MAX)}
#: Digit strings as bedside widgets produce them; past 30 digits the server stops parsing.
DIGITS = re.compile(r"-?[0-9]{1,30}")
MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")
INVALID = object()


def _integer(key, value):
    if value == "":
        return INVALID if key in ("patient_mrn", "room_number") else None
    if isinstance(value, bool):
        return INVALID
    if isinstance(value, str) and DIGITS.fullmatch(value):
        value = int(value)
    if not isinstance(value, int):
        return INVALID
    low, high = RANGES[key]
    return value if low <= value <= high else INVALID


def _rate(value):
    if value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return INVALID
    if isinstance(value, str) and ("\x00" in value or len(value) > 64):
        return INVALID
    try:
        number = float(value)
    except (ValueError, OverflowError):
        return INVALID
    return number if math.isfinite(number) and number >= 0 else INVALID


def _name(value):
    if not isinstance(value, str) or "\x00" in value or len(value.strip()) > 200:
        return INVALID
    if any(0xD800 <= ord(c) <= 0xDFFF for c in value):  # half a surrogate pair: not storable
        return INVALID
    return value.strip() or None


def _image(value):
    if value == "":
        return None
    if not isinstance(value, str) or "\x00" in value:
        return INVALID
    try:
        data = base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        return INVALID
    return data if data.startswith(MAGIC) else INVALID


def _check(key, value):
    if value is None:
        return INVALID
    if key in RANGES:
        return _integer(key, value)
    return {"breath_rate": _rate, "patient_name": _name, "flow_image": _image}[key](value)


def judge(body) -> tuple[str | None, dict]:
    """(None, typed values) for a valid body, else (the start of the expected 400 message, {})."""
    if not isinstance(body, dict):
        return "Input is not a dictionary", {}
    typed = {key: _check(key, body[key]) for key in KEYS if key in body}
    missing = [key for key in KEYS if key not in body]
    bad = missing + [key for key, value in typed.items() if value is INVALID]
    if (typed.get("CPAP_pressure") not in (None, INVALID)
            and typed.get("breath_rate") not in (None, INVALID)
            and "apnea_count" in typed and typed["apnea_count"] is None):
        bad.append("apnea_count")  # a recorded measurement needs its apnea count
    if bad:
        # Keys are judged in the original's order; the first that fails names the error.
        first = min(bad, key=KEYS.index)
        return f"Key {first} " + ("is missing from input" if first in missing else ""), {}
    return None, typed
