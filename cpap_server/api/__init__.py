"""HTTP entry points: thin blueprints that translate requests to service calls."""
