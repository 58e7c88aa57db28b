"""The `make run` launcher's pieces; the whole web stack is started by hand, never here."""

import tempfile
from pathlib import Path

import dj_database_url
import psycopg
import pytest
import redis

from community import devserver


@pytest.fixture
def short_tmp():
    # A unix socket path must stay under ~107 bytes, and pytest's tmp_path can be longer than that.
    with tempfile.TemporaryDirectory(prefix="healtalk-") as directory:
        yield Path(directory)


def test_choose_port_prefers_the_preferred_port_when_free():
    assert devserver.choose_port(6390, is_free=lambda port: True) == 6390


def test_choose_port_falls_back_to_a_free_port():
    port = devserver.choose_port(6390, is_free=lambda port: False)

    assert port != 6390
    assert devserver.port_is_free(port)


def test_socket_database_url_reads_back_as_a_socket_host():
    url = devserver.socket_database_url(Path("/work/main/var/pgdata"), "healtalk")

    parsed = dj_database_url.parse(url)
    assert (parsed["HOST"], parsed["NAME"], parsed["USER"]) == ("/work/main/var/pgdata", "healtalk", "postgres")


def test_dev_environment_defaults_to_debug_and_keeps_what_the_caller_set():
    env = devserver.dev_environment(
        {"SITE_URL": "http://demo.example.org", "PATH": "/usr/bin"},
        database_url="postgres://db/healtalk", redis_url="redis://127.0.0.1:6390/0",
    )

    assert env["DEBUG"] == "1"
    assert env["SITE_URL"] == "http://demo.example.org"
    assert (env["DATABASE_URL"], env["REDIS_URL"]) == ("postgres://db/healtalk", "redis://127.0.0.1:6390/0")
    assert env["PATH"] == "/usr/bin"


@pytest.mark.parametrize(("debug", "expected"), [("1", False), ("true", False), ("0", True), ("", True)])
def test_needs_collectstatic_only_without_debug(debug, expected):
    assert devserver.needs_collectstatic({"DEBUG": debug}) is expected


def test_start_postgres_serves_a_database_and_stops(short_tmp):
    server, socket_dir = devserver.start_postgres(short_tmp / "pgdata")
    try:
        devserver.ensure_database(socket_dir, "healtalk")
        devserver.ensure_database(socket_dir, "healtalk")
        with psycopg.connect(devserver.socket_database_url(socket_dir, "healtalk")) as conn:
            assert conn.execute("SELECT current_database()").fetchone() == ("healtalk",)
    finally:
        server.cleanup()

    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(devserver.socket_database_url(socket_dir, "healtalk"), connect_timeout=2)


def test_start_redis_answers_and_stops(short_tmp):
    port = devserver.choose_port(devserver.PREFERRED_REDIS_PORT)
    process = devserver.start_redis(short_tmp, port)
    client = redis.Redis(host="127.0.0.1", port=port)
    try:
        assert client.ping()
    finally:
        devserver.stop_processes([process])
        client.close()

    assert process.returncode == 0
    assert devserver.port_is_free(port)
