"""The browser tests' waits work under the dashboard's Content-Security-Policy."""
from __future__ import annotations

import pytest

from . import NO_PLAYWRIGHT
from .waits import wait_until

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api", reason=NO_PLAYWRIGHT)


def test_a_condition_that_holds_only_later_is_awaited_on_a_csp_page(browser, open_server):
    # Its own page: the refused eval below may also surface as a page error, which the shared
    # page fixture would rightly count as a failure.
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{open_server.url}/dashboard/login")  # served with default-src 'self'
        page.evaluate("() => { setTimeout(() => { window.ready = 7; }, 300); }")
        # Playwright's own polling evals the string, which this CSP forbids: the flake it caused.
        with pytest.raises(sync_api.Error, match="unsafe-eval"):
            page.wait_for_function("window.ready === 7", timeout=2000)
        page.evaluate("() => { delete window.ready;"
                      " setTimeout(() => { window.ready = 7; }, 300); }")
        assert wait_until(page, "() => window.ready") == 7
    finally:
        context.close()
