"""Dashboard tests; the browser ones skip with this reason when Playwright is missing."""
NO_PLAYWRIGHT = "Playwright for Python is not installed: pip install playwright (make test does)"
