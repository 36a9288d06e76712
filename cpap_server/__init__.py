"""cpap_server: CPAP monitoring backend on PostgreSQL. `create_app()` is the Flask app factory."""
from __future__ import annotations

from flask import Flask

from . import migrate
from .auth import init_auth
from .config import Settings
from .dashboard import init_dashboard
from .db import db, engine_options
from .errors import register_error_handlers
from .observability import init_observability
from .request_context import init_request_context


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: settings, database, error handlers, blueprints."""
    app = Flask(__name__, instance_relative_config=True)
    settings = Settings.from_env()
    overrides = dict(test_config or {})
    url = overrides.pop("DATABASE_URL", None) or settings.database_url
    if not url:
        from . import embedded
        url, _ = embedded.resolve_database_url(settings)
    app.config.update(
        SQLALCHEMY_DATABASE_URI=url,
        SQLALCHEMY_ENGINE_OPTIONS=engine_options(settings.lock_timeout_ms,
                                                 pool_size=settings.threads + 1),
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        CPAP_SETTINGS=settings,
        CPAP_SCHEMA_HEAD=migrate.head_revision(),
    )
    app.config.update(overrides)
    db.init_app(app)
    register_error_handlers(app)
    init_request_context(app)
    init_observability(app)
    init_auth(app)

    from .api import legacy, ops, v1
    app.register_blueprint(legacy.bp)
    app.register_blueprint(ops.bp)
    v1.init_app(app)
    init_dashboard(app)
    return app
