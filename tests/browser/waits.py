"""Waiting for page state without tripping the dashboard's Content-Security-Policy.

Playwright's wait_for_function re-evaluates a string expression with eval() while it polls,
and the dashboard's CSP (default-src 'self', no 'unsafe-eval') refuses that: the wait passed
only when the condition already held at its first check, and failed the test otherwise. These
helpers poll from Python with page.evaluate(), which runs over the DevTools protocol.
"""
from __future__ import annotations

import time


def wait_until(page, function: str, arg=None, timeout: float = 10.0):
    """Poll a JavaScript function (e.g. "sel => ...") until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = page.evaluate(function, arg)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"page never satisfied {function!r} ({arg!r}) in {timeout} s")
        page.wait_for_timeout(50)


def loaded_width(page, selector: str) -> int:
    """naturalWidth of the image at selector once the image now in its src has loaded."""
    return wait_until(page, "sel => { const img = document.querySelector(sel);"
                            " return img && img.complete ? img.naturalWidth : 0; }", selector)
