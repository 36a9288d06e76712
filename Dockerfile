# The cpap_server image: the package and its Alembic migrations, run as an unprivileged user.
# Needs DATABASE_URL (see docker-compose.yml); without it the embedded PostgreSQL starts in
# the container, which suits a quick try only.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CPAP_MIGRATIONS_DIR=/app/migrations \
    CPAP_DATA_DIR=/home/cpap/pgdata

WORKDIR /app
COPY . /app
# The migrations stay in /app (outside the installed package): CPAP_MIGRATIONS_DIR points there.
RUN pip install /app \
    && useradd --create-home --uid 10001 --user-group cpap

USER cpap
EXPOSE 5000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5000/healthz', timeout=2)"]
CMD ["cpap-server", "serve", "--host", "0.0.0.0", "--port", "5000"]
