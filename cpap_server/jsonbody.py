"""Request bodies as JSON: Python's parser, minus the two ways it fails that are not syntax errors.

* An integer literal with more digits than Python converts (`sys.get_int_max_str_digits()`, 4,300
  by default) fails the whole body with a bare ValueError. It is read as BEYOND (10**400), with
  its sign, instead: larger than any integer field allows and than a double holds, so the field
  that carries it is refused with that field's usual message ("must be at most ...", "must be a
  finite number"), as a 400-digit number is.
* Nesting deeper than the interpreter's recursion limit raises RecursionError; it is reported as
  a JSONDecodeError, like any other body that is not usable JSON.

read() returns the body itself, refusing a chunked body over the limit as 413: werkzeug stops
reading such a body at the limit without an error, and the truncated text was then reported as
"not valid JSON".
"""
from __future__ import annotations

import json
import sys

from flask import Request
from werkzeug.exceptions import RequestEntityTooLarge

#: What an integer too long to convert stands for.
BEYOND = 10 ** 400


def _bounded_int(text: str) -> int:
    limit = sys.get_int_max_str_digits()
    if not limit or len(text) - text.startswith("-") <= limit:
        return int(text)
    return -BEYOND if text.startswith("-") else BEYOND


def loads(data: str | bytes):
    """json.loads for request bodies; JSONDecodeError (a ValueError) for anything unusable."""
    try:
        return json.loads(data)
    except json.JSONDecodeError:
        raise
    except RecursionError:
        raise json.JSONDecodeError("Nested too deeply", "(request body)", 0) from None
    except ValueError:
        pass  # an integer literal past the conversion limit (other errors recur below)
    try:
        return json.loads(data, parse_int=_bounded_int)
    except RecursionError:
        raise json.JSONDecodeError("Nested too deeply", "(request body)", 0) from None


def read(request: Request, cache: bool = True) -> bytes:
    """The request body; 413 when it is larger than MAX_CONTENT_LENGTH, chunked ones included.

    A body with Content-Length over the limit is refused by werkzeug before it is read. A chunked
    one (no Content-Length) is read up to the limit and silently cut there; one more byte from
    the server's stream tells a body of exactly the limit from a longer one.
    """
    data = request.get_data(cache=cache)
    limit = request.max_content_length
    if (limit is not None and request.content_length is None and len(data) >= limit
            and request.environ["wsgi.input"].read(1)):
        raise RequestEntityTooLarge()
    return data
