"""Use cases: the only code that opens and ends transactions."""
