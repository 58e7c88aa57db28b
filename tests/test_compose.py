"""The production docker-compose.yml, read as data (no Docker engine runs here) and, where a compose CLI
is installed, validated by it."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ("migrate", "web", "worker", "beat")
REQUIRED = {
    "SECRET_KEY": "not-a-real-key", "POSTGRES_PASSWORD": "not-a-real-password",
    "ALLOWED_HOSTS": "healtalk.example.org", "SITE_URL": "https://healtalk.example.org",
    "LIST_DOMAIN": "lists.example.org",
}


@pytest.fixture(scope="module")
def services():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


def _environment(service) -> dict:
    return dict(item.split("=", 1) if "=" in item else (item, None) for item in service["environment"])


def test_compose_runs_every_process_the_site_needs(services):
    assert set(services) == {"db", "redis", *APP_SERVICES}
    assert services["db"]["image"] == "postgres:16"
    assert services["redis"]["image"] == "redis:7"
    assert "community.asgi:application" in services["web"]["command"]
    assert services["worker"]["command"][:4] == ["celery", "-A", "community", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "community", "beat"]
    assert services["migrate"]["command"][-2:] == ["migrate", "--noinput"]


def test_compose_starts_the_app_only_on_healthy_services_and_a_migrated_database(services):
    assert "pg_isready" in services["db"]["healthcheck"]["test"]
    assert "ping" in services["redis"]["healthcheck"]["test"]
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])
    assert services["migrate"]["restart"] == "no"
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"] == {
            "db": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
            "migrate": {"condition": "service_completed_successfully"},
        }, name


def test_compose_app_environment_requires_secrets_and_turns_debug_off(services):
    for name in APP_SERVICES:
        env = _environment(services[name])
        assert env["DEBUG"] == "0"
        assert env["SECRET_KEY"].startswith("${SECRET_KEY:?")
        assert env["DATABASE_URL"].startswith("postgres://healtalk:${POSTGRES_PASSWORD:?")
        assert env["REDIS_URL"] == "redis://redis:6379/0"
        for key in ("ALLOWED_HOSTS", "SITE_URL", "LIST_DOMAIN"):
            assert env[key].startswith(f"${{{key}:?"), key
        assert "EMAIL_BACKEND" in env
        assert any(key.startswith("ANYMAIL_") for key in env)


def _compose_cli():
    plugin = shutil.which("docker") and subprocess.run(
        ["docker", "compose", "version"], check=False, capture_output=True
    )
    if plugin and plugin.returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    pytest.skip("no compose CLI installed (docker compose or docker-compose)")


def test_compose_config_is_valid_and_refuses_a_missing_secret_key():
    cli = _compose_cli()
    env = {**os.environ, **REQUIRED}

    valid = subprocess.run([*cli, "config", "-q"], check=False, cwd=ROOT, env=env, capture_output=True, text=True)
    env.pop("SECRET_KEY")
    missing = subprocess.run(
        [*cli, "config", "-q"], check=False, cwd=ROOT, env=env, capture_output=True, text=True
    )

    assert valid.returncode == 0, valid.stderr
    assert missing.returncode != 0
    assert "set SECRET_KEY" in missing.stderr
