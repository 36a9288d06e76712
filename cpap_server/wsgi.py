"""WSGI entry point for running under an external gunicorn: `gunicorn cpap_server.wsgi:app`."""
from . import create_app

app = create_app()
