"""The resource library's link check (threads.link_check, beat "resource-links") against a real HTTP server on
127.0.0.1, and the moderators' broken-links page."""

import socket
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from community.models import AuditRecord
from threads import link_check, tasks
from threads.events import resource_links_broken
from threads.models import Resource

from ..conftest import login
from ..mailer.test_worker import queue, wait_for, worker  # noqa: F401  (a real Celery worker)

USER_AGENT = "HealTalk link checker (+http://testserver)"


class Site:
    """What the test server answers, and every request it saw: (method, path, user agent, time)."""

    def __init__(self):
        self.requests = []
        self.status = {"/toggle": 200}
        self.delay = 0.0


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _answer(self):
        site = self.server.site
        site.requests.append((self.command, self.path, self.headers.get("User-Agent"), time.monotonic()))
        path = self.path
        if path == "/slow" or path == "/delayed":
            time.sleep(1.0 if path == "/slow" else site.delay)
        if path == "/moved":
            return self._send(301, Location="/ok")
        if path == "/loop":
            return self._send(302, Location="/loop")
        if path == "/no-head" and self.command == "HEAD":
            return self._send(405, Allow="GET")
        status = {"/missing": 404, "/error": 500}.get(path) or site.status.get(path, 200)
        self._send(status, body=b"<html><body>" + b"x" * 10_000 + b"</body></html>")

    def _send(self, status, body=b"", **headers):
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the checker closes a GET without reading its body

    do_HEAD = do_GET = _answer

    def log_message(self, format, *args):
        pass


@pytest.fixture
def site():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.site = Site()
    server.site.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.site
    server.shutdown()
    server.server_close()


@pytest.fixture
def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(autouse=True)
def quick_checks(settings):
    settings.LINK_CHECK_ALLOW_PRIVATE = True  # the test site is on 127.0.0.1
    settings.LINK_CHECK_TIMEOUT = 0.3
    settings.LINK_CHECK_CONNECT_TIMEOUT = 0.3
    settings.LINK_CHECK_HOST_PAUSE = 0


@pytest.fixture
def resource_factory(member):
    def make(url, **fields):
        fields.setdefault("status", Resource.Status.APPROVED)
        fields.setdefault("title", f"Guide at {url}")
        fields.setdefault("submitted_by", member)
        return Resource.objects.create(url=url, description="A guide.", **fields)

    return make


@pytest.fixture
def broken_events():
    received = []

    def receiver(sender, resource_ids, **kwargs):
        received.append(sorted(resource_ids))

    resource_links_broken.connect(receiver)
    yield received
    resource_links_broken.disconnect(receiver)


def run_check(capture, **kwargs):
    with capture(execute=True):
        return link_check.check_resource_links(**kwargs)


def week(n):
    return timezone.now() + timedelta(days=7 * n)


def test_check_resource_links_finds_working_links_politely(site, resource_factory, broken_events,
                                                          django_capture_on_commit_callbacks):
    ok, moved, no_head = (resource_factory(site.url + path) for path in ("/ok", "/moved", "/no-head"))

    run = run_check(django_capture_on_commit_callbacks)

    assert (run.checked, run.failed, run.newly_broken) == (3, 0, [])
    for resource in (ok, moved, no_head):
        resource.refresh_from_db()
        assert (resource.link_status, resource.link_failures, resource.link_error) == ("ok", 0, "")
        assert resource.link_checked_at is not None
    seen = [(method, path) for method, path, _, _ in site.requests]
    assert seen == [("HEAD", "/ok"), ("HEAD", "/moved"), ("HEAD", "/ok"), ("HEAD", "/no-head"), ("GET", "/no-head")]
    assert {agent for _, _, agent, _ in site.requests} == {USER_AGENT}
    assert broken_events == []


def test_check_resource_links_flags_a_link_only_after_two_failures_in_a_row(
        site, closed_port, resource_factory, broken_events, django_capture_on_commit_callbacks):
    expected = {
        resource_factory(site.url + "/missing").id: "The site answered 404 Not Found",
        resource_factory(site.url + "/error").id: "The site answered 500 Internal Server Error",
        resource_factory(site.url + "/slow").id: "No answer within 0.3 seconds",
        resource_factory(site.url + "/loop").id: "More than 5 redirects",
        resource_factory(f"http://127.0.0.1:{closed_port}/gone").id: "The site refused the connection",
        resource_factory(site.url.replace("http:", "https:") + "/ok").id: "The secure connection to the site failed",
    }
    working = resource_factory(site.url + "/ok")

    first = run_check(django_capture_on_commit_callbacks)

    assert (first.checked, first.failed, first.newly_broken) == (7, 6, [])
    def failing():
        rows = Resource.objects.filter(pk__in=expected)
        return {r.id: (r.link_status, r.link_failures, r.link_error) for r in rows}

    assert failing() == {pk: ("unchecked", 1, error) for pk, error in expected.items()}
    assert broken_events == []

    second = run_check(django_capture_on_commit_callbacks, now=week(1))

    assert sorted(second.newly_broken) == sorted(expected)
    assert failing() == {pk: ("broken", 2, error) for pk, error in expected.items()}
    working.refresh_from_db()
    assert working.link_status == "ok"
    assert broken_events == [sorted(expected)]

    third = run_check(django_capture_on_commit_callbacks, now=week(2))

    assert (third.failed, third.newly_broken) == (6, [])
    assert failing() == {pk: ("broken", 3, error) for pk, error in expected.items()}
    assert broken_events == [sorted(expected)]  # told once, not every week


def test_check_resource_links_tries_a_failed_link_again_the_next_day(site, resource_factory, broken_events,
                                                                    django_capture_on_commit_callbacks):
    dead = resource_factory(site.url + "/missing")
    working = resource_factory(site.url + "/ok")
    run_check(django_capture_on_commit_callbacks)

    same_day = run_check(django_capture_on_commit_callbacks, now=timezone.now() + timedelta(hours=6))
    next_day = run_check(django_capture_on_commit_callbacks, now=timezone.now() + timedelta(days=1))

    assert same_day.checked == 0
    assert (next_day.checked, next_day.newly_broken) == (1, [dead.id])  # the working link rests its 6 days
    assert broken_events == [[dead.id]]
    working.refresh_from_db()
    assert working.link_status == "ok"


def test_check_resource_links_never_opens_a_private_address(settings, site, resource_factory,
                                                            django_capture_on_commit_callbacks):
    settings.LINK_CHECK_ALLOW_PRIVATE = False
    refused = [resource_factory(url) for url in (site.url + "/ok", "http://10.1.2.3/intranet",
                                                 "http://169.254.169.254/latest/meta-data/", "http://[::1]/admin")]

    run_check(django_capture_on_commit_callbacks)

    assert site.requests == []  # nothing reached the server
    for resource in refused:
        resource.refresh_from_db()
        assert resource.link_failures == 1
        assert resource.link_error.startswith("Not opened: the link leads to a private network address")


def test_check_resource_links_clears_a_link_that_works_again(site, resource_factory, broken_events,
                                                             django_capture_on_commit_callbacks):
    blip = resource_factory(site.url + "/toggle")
    site.status["/toggle"] = 503
    run_check(django_capture_on_commit_callbacks)
    site.status["/toggle"] = 200
    run_check(django_capture_on_commit_callbacks, now=week(1))
    blip.refresh_from_db()
    assert (blip.link_status, blip.link_failures, blip.link_error) == ("ok", 0, "")

    site.status["/toggle"] = 503
    run_check(django_capture_on_commit_callbacks, now=week(2))
    blip.refresh_from_db()
    assert (blip.link_status, blip.link_failures) == ("ok", 1)  # fail, work, fail: not two in a row
    assert blip.link_error == "The site answered 503 Service Unavailable"

    run_check(django_capture_on_commit_callbacks, now=week(3))
    blip.refresh_from_db()
    assert blip.link_status == "broken"
    site.status["/toggle"] = 200
    run_check(django_capture_on_commit_callbacks, now=week(4))
    blip.refresh_from_db()
    assert (blip.link_status, blip.link_failures, blip.link_error) == ("ok", 0, "")
    assert broken_events == [[blip.id]]


def test_check_resource_links_checks_library_links_oldest_first_and_rests_them(
        site, resource_factory, django_capture_on_commit_callbacks):
    now = timezone.now()
    resource_factory(site.url + "/ok?recent", link_checked_at=now - timedelta(days=1), link_status="ok")
    resource_factory(site.url + "/ok?week", link_checked_at=now - timedelta(days=7), link_status="ok")
    resource_factory(site.url + "/ok?never")
    resource_factory(site.url + "/ok?month", link_checked_at=now - timedelta(days=30), link_status="ok")
    for status in ("submitted", "changes_requested", "rejected"):
        resource_factory(site.url + f"/ok?{status}", status=status)
    resource_factory("", title="Files only")

    run = run_check(django_capture_on_commit_callbacks, now=now, batch_size=2)

    assert run.checked == 3
    assert [path for _, path, _, _ in site.requests] == ["/ok?never", "/ok?month", "/ok?week"]
    site.requests.clear()
    assert run_check(django_capture_on_commit_callbacks, now=now + timedelta(days=4)).checked == 0
    assert site.requests == []


def test_check_resource_links_pauses_between_requests_to_the_same_site(site, resource_factory, settings,
                                                                       django_capture_on_commit_callbacks):
    settings.LINK_CHECK_HOST_PAUSE = 0.4
    resource_factory(site.url + "/ok")
    resource_factory(site.url + "/no-head")

    run_check(django_capture_on_commit_callbacks)

    times = [at for _, _, _, at in site.requests]
    assert len(times) == 3  # HEAD /ok, HEAD /no-head, GET /no-head
    assert all(later - earlier >= 0.4 for earlier, later in zip(times, times[1:], strict=False))


@pytest.mark.django_db(transaction=True)
def test_check_resource_links_two_runs_at_once_check_each_link_once(site, resource_factory, settings):
    settings.LINK_CHECK_TIMEOUT = 5
    site.delay = 0.5
    resources = [resource_factory(site.url + f"/delayed?{n}") for n in range(3)]
    runs = []

    def first_run():
        runs.append(link_check.check_resource_links(batch_size=2))
        connection.close()

    first = threading.Thread(target=first_run)
    first.start()
    assert wait_for(lambda: site.requests)
    second = link_check.check_resource_links(batch_size=2)
    first.join()

    assert runs[0].checked + second.checked == 3
    assert sorted(path for _, path, _, _ in site.requests) == [f"/delayed?{n}" for n in range(3)]
    assert set(Resource.objects.filter(pk__in=[r.id for r in resources]).values_list("link_status", flat=True)) \
        == {"ok"}


def test_check_resource_links_task_is_on_the_daily_beat(settings, site, resource_factory):
    entry = settings.CELERY_BEAT_SCHEDULE["resource-links"]
    assert entry["task"] == "threads.tasks.check_resource_links"
    assert (entry["schedule"].hour, entry["schedule"].day_of_week) == ({6}, set(range(7)))
    resource = resource_factory(site.url + "/ok")

    tasks.check_resource_links.delay()

    resource.refresh_from_db()
    assert resource.link_status == "ok"


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("worker")
def test_check_resource_links_task_runs_in_a_real_worker(site, resource_factory, broken_events):
    resource = resource_factory(site.url + "/missing", link_failures=1, link_error="The site answered 404 Not Found")

    tasks.check_resource_links.delay()

    flagged = Resource.objects.filter(pk=resource.pk, link_status="broken", link_failures=2)
    assert wait_for(flagged.exists)
    assert wait_for(lambda: broken_events == [[resource.id]])


@pytest.fixture
def broken_factory(resource_factory):
    def make(url, **fields):
        fields.setdefault("link_failures", 2)
        fields.setdefault("link_error", "The site answered 404 Not Found")
        return resource_factory(url, link_status="broken", link_checked_at=timezone.now() - timedelta(days=3),
                                **fields)

    return make


def test_broken_links_page_is_for_moderators_only(client, member, broken_factory, site):
    broken = broken_factory(site.url + "/missing")
    login(client, member)
    page = reverse("broken_links")

    assert client.get(page).status_code == 403
    assert client.post(reverse("check_resource_link", args=[broken.id])).status_code == 403
    assert client.post(reverse("mark_resource_link_working", args=[broken.id])).status_code == 403
    broken.refresh_from_db()
    assert (broken.link_status, broken.link_failures) == ("broken", 2)
    assert site.requests == []


def test_broken_links_page_lists_broken_library_links_with_what_failed(moderator_client, member, broken_factory,
                                                                       resource_factory, site):
    broken = broken_factory(site.url + "/missing", title="Interpreter guide", link_failures=3)
    former = broken_factory(site.url + "/error", title="Sleep handout", submitted_by=None,
                            link_error="No answer within 10 seconds")
    resource_factory(site.url + "/toggle", title="Failed once", link_failures=1, link_error="The site answered 503")
    resource_factory(site.url + "/ok", title="Working", link_status="ok")
    broken_factory(site.url + "/gone", title="Waiting for review", status="submitted")

    response = moderator_client.get(reverse("broken_links"))

    assert response.status_code == 200
    assert [r.title for r in response.context["resources"]] == ["Interpreter guide", "Sleep handout"]
    html = response.content.decode()
    assert "Failed once" not in html and "Working" not in html and "Waiting for review" not in html
    assert "The site answered 404 Not Found" in html and "Failed 3 checks in a row" in html
    assert f'href="{reverse("moderation_member", args=[member.id])}">{member.full_name}</a>' in html
    assert "sent by a former member" in html and "No answer within 10 seconds" in html
    assert f'action="{reverse("check_resource_link", args=[former.id])}"' in html
    assert f'href="{reverse("edit_resource", args=[broken.id])}"' in html
    assert f'action="{reverse("mark_resource_link_working", args=[broken.id])}"' in html
    assert f'href="{reverse("broken_links")}" aria-current="page"' in html  # in the moderation menu


@pytest.mark.parametrize("count", [1, 10])
def test_broken_links_page_query_count_is_constant(moderator_client, broken_factory, member_factory, count,
                                                   django_assert_num_queries):
    for n in range(count):
        broken_factory(f"https://example.org/gone/{n}", submitted_by=member_factory())
    moderator_client.get(reverse("broken_links"))  # the session and the two-step sign-in settle

    with django_assert_num_queries(5):
        response = moderator_client.get(reverse("broken_links"))

    assert len(response.context["resources"]) == count


def test_check_again_now_clears_a_link_that_works_again(moderator_client, broken_factory, site, broken_events,
                                                        django_capture_on_commit_callbacks):
    fixed = broken_factory(site.url + "/toggle")

    with django_capture_on_commit_callbacks(execute=True):
        response = moderator_client.post(reverse("check_resource_link", args=[fixed.id]), follow=True)

    assert [(method, path, agent) for method, path, agent, _ in site.requests] == [("HEAD", "/toggle", USER_AGENT)]
    fixed.refresh_from_db()
    assert (fixed.link_status, fixed.link_failures, fixed.link_error) == ("ok", 0, "")
    assert fixed.link_checked_at > timezone.now() - timedelta(minutes=1)
    assert response.redirect_chain == [(reverse("broken_links"), 302)]
    assert f"The link of “{fixed.title}” works: it is no longer flagged." in response.content.decode()
    assert fixed.title not in [r.title for r in response.context["resources"]]
    assert broken_events == []


def test_check_again_now_keeps_a_failing_link_flagged(moderator_client, broken_factory, resource_factory, site,
                                                      broken_events, django_capture_on_commit_callbacks):
    broken = broken_factory(site.url + "/missing")
    failed_once = resource_factory(site.url + "/error", link_status="ok", link_failures=1,
                                   link_error="The site answered 500 Internal Server Error")

    with django_capture_on_commit_callbacks(execute=True):
        response = moderator_client.post(reverse("check_resource_link", args=[broken.id]), follow=True)
        moderator_client.post(reverse("check_resource_link", args=[failed_once.id]))

    broken.refresh_from_db()
    assert (broken.link_status, broken.link_failures) == ("broken", 3)
    assert f"The link of “{broken.title}” still fails: The site answered 404 Not Found." in response.content.decode()
    failed_once.refresh_from_db()
    assert (failed_once.link_status, failed_once.link_failures) == ("broken", 2)
    assert broken_events == [[failed_once.id]]  # newly broken by the moderator's check: news too


def test_mark_as_working_clears_the_flag_and_is_audited(moderator_client, moderator, member, broken_factory, site):
    broken = broken_factory(site.url + "/missing", title="Interpreter guide")

    response = moderator_client.post(reverse("mark_resource_link_working", args=[broken.id]),
                                     {"reason": "Opens in a browser; the site refuses robots."}, follow=True)

    broken.refresh_from_db()
    assert (broken.link_status, broken.link_failures, broken.link_error) == ("ok", 0, "")
    assert "is marked as working" in response.content.decode()
    assert site.requests == []
    record = AuditRecord.objects.get(action="resource_link_marked_working")
    assert (record.actor, record.subject, record.target, record.reason) == (
        moderator, member, f"Resource #{broken.id} “Interpreter guide”", "Opens in a browser; the site refuses robots.")


def test_mark_as_working_with_too_long_a_reason_changes_nothing(moderator_client, broken_factory, site):
    broken = broken_factory(site.url + "/missing")

    response = moderator_client.post(reverse("mark_resource_link_working", args=[broken.id]), {"reason": "x" * 2001})

    assert response.status_code == 400
    assert "at most 2000 characters" in response.content.decode()
    broken.refresh_from_db()
    assert broken.link_status == "broken"
    assert not AuditRecord.objects.filter(action="resource_link_marked_working").exists()
