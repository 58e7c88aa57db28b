"""A real server and a real browser: daphne serves the whole ASGI app (pages, static files, websockets)."""

from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import pytest
from asgiref.sync import SyncToAsync
from channels.testing.live import make_application
from daphne.testing import DaphneProcess
from django.conf import settings as django_settings
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
from django.db import connections

from community.models import Member
from tests.conftest import enable_totp

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
HOST = "127.0.0.1"
ARTIFACTS = Path(django_settings.BASE_DIR) / "test-artifacts"


def _replace_inherited_executor():
    # fork copies asgiref's executor but not its worker thread (started by earlier async tests): without a
    # fresh one every sync_to_async call in the server, such as the websocket access check, waits forever.
    SyncToAsync.single_thread_executor = ThreadPoolExecutor(max_workers=1)


@pytest.fixture(autouse=True)
def totp_window_either_side(settings):
    """A moderator's code is made just before it is typed: across a 30-second boundary it would be refused (the
    server forks after autouse fixtures, with these settings)."""
    settings.MFA_TOTP_TOLERANCE = 1


@pytest.fixture
def live_server_url(transactional_db, settings):
    """The server is a forked child: it inherits the test database name and this test's settings, and reads
    what the test commits (hence a transactional database, not a rolled-back one)."""
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, HOST]
    connections.close_all()  # a forked child must not share our database sockets
    server = DaphneProcess(
        HOST, partial(make_application, static_wrapper=ASGIStaticFilesHandler), setup=_replace_inherited_executor
    )
    server.start()
    if not server.ready.wait(timeout=20):
        server.terminate()
        raise RuntimeError(f"daphne did not start: {server.errors.get(timeout=1) if not server.errors.empty() else ''}")
    yield f"http://{HOST}:{server.port.value}"
    server.terminate()
    server.join(timeout=10)


@pytest.fixture
def browser():
    """While Playwright's sync API is open it keeps an event loop running in this thread, so Django refuses
    ORM calls (SynchronousOnlyOperation): list data fixtures before this one and act through the browser.
    That keeps the async-safety check on instead of setting DJANGO_ALLOW_ASYNC_UNSAFE for the whole run."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: `make test` installs it (.ci/bootstrap.sh chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def artifacts():
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def moderator_with_secret(member_factory):
    """A moderator with TOTP set up, and the secret to sign in with."""
    moderator = member_factory(role=Member.Role.MODERATOR, full_name="Mo Derator")
    return moderator, enable_totp(moderator.user)
