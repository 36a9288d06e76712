"""docker-compose.yml, Dockerfile and docs/deployment.md, parsed and checked without Docker."""
from __future__ import annotations

import fnmatch
import json
import re
import shlex
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from cpap_server import migrate
from cpap_server.cli import main

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
REQUIRED = re.compile(r"\$\{POSTGRES_PASSWORD:\?[^}]+\}")


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines()]
    pairs = [line.split(None, 1) for line in lines if line and not line.startswith("#")]
    return [(pair[0].upper(), pair[1] if len(pair) > 1 else "") for pair in pairs]


def instructions(name: str) -> list[str]:
    return [args for instruction, args in dockerfile() if instruction == name]


def test_compose_runs_db_migrate_and_app():
    assert set(SERVICES) == {"db", "migrate", "app"}


def test_db_is_the_official_postgres_image_on_a_named_volume_with_a_pg_isready_healthcheck():
    db = SERVICES["db"]
    assert re.fullmatch(r"postgres:\d+(\.\d+)?", db["image"])
    volume, target = db["volumes"][0].split(":")[:2]
    assert volume in COMPOSE["volumes"] and not volume.startswith((".", "/"))
    assert target == "/var/lib/postgresql"  # 18+ images keep PGDATA under it
    health = db["healthcheck"]
    assert health["test"][0] == "CMD-SHELL" and "pg_isready" in health["test"][1]
    assert {"interval", "timeout", "retries"} <= set(health)
    assert REQUIRED.fullmatch(db["environment"]["POSTGRES_PASSWORD"])


def test_migrate_runs_db_upgrade_once_after_the_database_is_healthy():
    migrate_service = SERVICES["migrate"]
    assert migrate_service["command"] == ["cpap-server", "db", "upgrade"]
    assert migrate_service["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert migrate_service["restart"] == "no"


def test_app_serves_on_all_interfaces_only_after_migrate_completed_successfully():
    app = SERVICES["app"]
    assert app["command"][:2] == ["cpap-server", "serve"]
    assert app["command"][app["command"].index("--host") + 1] == "0.0.0.0"
    assert app["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
    assert app["ports"] == ["${CPAP_PORT:-5000}:5000"]


@pytest.mark.parametrize("service", ["migrate", "app"])
def test_the_app_services_build_the_image_and_reach_db_by_environment(service):
    spec = SERVICES[service]
    assert spec["build"] == "."
    url = spec["environment"]["DATABASE_URL"]
    assert url.startswith("postgresql://") and "@db:5432/" in url
    assert REQUIRED.search(url), "the password must be required, never defaulted"


def test_app_settings_come_from_the_environment():
    env = SERVICES["app"]["environment"]
    for name in ("CPAP_WORKERS", "CPAP_THREADS", "CPAP_AUTH"):
        assert env[name].startswith("${" + name), name


def test_the_dockerfile_installs_the_package_on_python_3_11_slim_as_a_non_root_user():
    assert instructions("FROM") == ["python:3.11-slim"]
    assert instructions("COPY") == [". /app"]
    assert any(re.search(r"\bpip install /app\b", run) for run in instructions("RUN"))
    users = instructions("USER")
    assert users and users[-1] not in ("root", "0")
    # USER comes before CMD, so the server never runs as root.
    names = [instruction for instruction, _ in dockerfile()]
    assert names.index("USER") < names.index("CMD")
    assert any(re.search(rf"useradd\b.*\b{users[-1]}\b", run) for run in instructions("RUN"))
    assert instructions("EXPOSE") == ["5000"]


def test_the_image_points_cpap_migrations_dir_at_the_copied_migrations(monkeypatch, tmp_path):
    env = " ".join(instructions("ENV"))
    assert re.search(r"\bCPAP_MIGRATIONS_DIR=/app/migrations\b", env)
    # `COPY . /app` puts migrations/ at /app/migrations, unless .dockerignore drops it.
    ignored = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")]
    for needed in ("migrations", "migrations/env.py", "cpap_server", "setup.cfg",
                   "pyproject.toml", "README.md"):
        assert not any(fnmatch.fnmatch(needed, pattern) for pattern in ignored), needed
    monkeypatch.setenv("CPAP_MIGRATIONS_DIR", str(ROOT / "migrations"))
    assert migrate.migrations_dir() == ROOT / "migrations"
    assert migrate.head_revision() is not None
    monkeypatch.setenv("CPAP_MIGRATIONS_DIR", str(tmp_path))
    assert migrate.migrations_dir() == tmp_path


def used_commands() -> list[list[str]]:
    """Every `cpap-server ...` invocation in the compose file, the Dockerfile and the doc."""
    found = [spec["command"] for spec in SERVICES.values() if "command" in spec]
    found += [json.loads(args) for args in instructions("CMD")]
    found += [shlex.split(run) for run in instructions("RUN") if "cpap-server" in run]
    doc = (ROOT / "docs" / "deployment.md").read_text()
    for block in re.findall(r"```sh\n(.*?)```", doc, flags=re.S):
        for line in block.splitlines():
            line = line.split("#", 1)[0]
            if "cpap-server " in line:
                found.append(shlex.split(line))
    commands = []
    for words in found:
        for i, word in enumerate(words):
            if word.endswith("cpap-server"):
                rest = words[i + 1:]
                stop = next((j for j, w in enumerate(rest) if w in ("&&", "|", ";", ">")),
                            len(rest))
                commands.append(rest[:stop])
    return commands


def test_the_deploy_files_use_cpap_server_commands():
    assert ["db", "upgrade"] in used_commands()
    assert any(c[:1] == ["serve"] for c in used_commands())
    assert len(used_commands()) >= 8  # compose, Dockerfile and the doc's examples


@pytest.mark.parametrize("args", used_commands(), ids=" ".join)
def test_every_cpap_server_command_used_exists_with_its_options(args):
    # --help after the arguments: click rejects unknown commands and options before helping.
    result = CliRunner().invoke(main, [*args, "--help"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Usage: ")


def test_the_image_healthcheck_probes_a_route_that_needs_no_database():
    (check,) = instructions("HEALTHCHECK")
    path = re.search(r"http://127\.0\.0\.1:5000(/[\w/-]*)", check).group(1)
    from cpap_server import create_app

    # Nothing listens on port 9: the probe must not depend on PostgreSQL.
    app = create_app({"DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:9/none"})
    assert app.test_client().get(path).status_code == 200


def test_the_documented_gunicorn_target_exists():
    doc = (ROOT / "docs" / "deployment.md").read_text()
    module, attribute = re.search(r"gunicorn .*? (cpap_server\.\w+):(\w+)", doc, re.S).groups()
    source = (ROOT / (module.replace(".", "/") + ".py")).read_text()
    # Importing it would build the app (and start PostgreSQL): read the assignment instead.
    assert re.search(rf"^{attribute} = create_app\(\)$", source, re.M)


def test_every_data_file_of_the_package_is_installed_by_pip_install():
    """The image installs a wheel, not the checkout: files outside package_data would be lost."""
    import configparser

    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    patterns = {package: [p.strip() for p in globs.split(",")]
                for package, globs in config["options.package_data"].items()}
    for path in (ROOT / "cpap_server").rglob("*"):
        if path.is_dir() or path.suffix in (".py", ".pyc") or "__pycache__" in path.parts:
            continue
        relative = path.relative_to(ROOT)
        owners = [(package, pattern) for package, globs in patterns.items()
                  for pattern in globs
                  if fnmatch.fnmatch(str(relative), package.replace(".", "/") + "/" + pattern)]
        assert owners, f"{relative} is missing from [options.package_data] in setup.cfg"
