"""The resource library's link check: daily from Celery beat (threads.tasks.check_resource_links), and for one
resource at once when a moderator asks from the broken-links page (threads.link_check_views).

A link that fails is flagged broken only after FAILURES_TO_FLAG failed checks in a row, so a site that is down for
an afternoon is not flagged; one good answer clears it. A broken link is never removed or hidden: the library shows
a notice and moderators hear of it once (threads.events.resource_links_broken, one event per run with the ids newly
broken), then fix the link, ask the submitter, or mark it as working.

Politeness towards the sites we link to: a User-Agent naming us and our address, HEAD first (GET, with the body
left unread, only when the site refuses HEAD), timeouts (LINK_CHECK_CONNECT_TIMEOUT, LINK_CHECK_TIMEOUT), a limit
on redirects, one request at a time and a pause (LINK_CHECK_HOST_PAUSE) between two requests to the same site, and
each link checked at most every LINK_CHECK_INTERVAL_DAYS, except that a link which just failed once is tried again
the next day (a dead link is flagged within days, not weeks).

A run claims a batch of due links in a short transaction (their link_checked_at set to the run's time, so a second
run at the same time skips them), checks them with no transaction open, and records each answer in a transaction of
its own. A run that dies leaves its claimed links to a later run, once they are due again.
"""

import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from community.access import can_moderate
from community.models import AuditRecord, Member

from .events import resource_links_broken
from .models import Resource

BATCH_SIZE = 50
FAILURES_TO_FLAG = 2
# Answers to HEAD from sites that serve the page to GET only.
HEAD_REFUSED = {403, 405, 501}


class LinkCheckError(Exception):
    """The action is refused; the message says why, for the moderator to read."""


class PrivateAddress(httpx.RequestError):
    """The link, or a redirect it leads to, points into a private network (our own server's, or a local one)."""


def _refuse_private_addresses(request: httpx.Request) -> None:
    """Members' links are opened from our server: one that leads, or redirects, to an address only the server can
    reach (loopback, the private ranges, link-local cloud metadata) is not opened, so that the check cannot be used
    to probe them. Called for every request httpx sends, redirects included."""
    if settings.LINK_CHECK_ALLOW_PRIVATE:
        return
    try:
        found = socket.getaddrinfo(request.url.host, request.url.port or 443, proto=socket.IPPROTO_TCP)
    except socket.gaierror:
        return  # httpx then reports the unknown name itself
    if any(not ipaddress.ip_address(info[4][0].split("%")[0]).is_global for info in found):
        raise PrivateAddress(f"{request.url.host} is a private address", request=request)


@dataclass
class LinkCheckRun:
    checked: int = 0
    failed: int = 0
    newly_broken: list[int] = field(default_factory=list)


def _seconds(value: float) -> str:
    return f"{value:g} second{'' if value == 1 else 's'}"


def _cause(error: BaseException, kind: type[BaseException]) -> BaseException | None:
    """httpx wraps the socket's own error (refused, unknown name, certificate) a layer or two down."""
    while error is not None:
        if isinstance(error, kind):
            return error
        error = error.__cause__ or error.__context__
    return None


def _connect_error(error: httpx.ConnectError) -> str:
    if _cause(error, ssl.SSLCertVerificationError):
        return "The site's security certificate could not be verified"
    if _cause(error, ssl.SSLError):
        return "The secure connection to the site failed"
    if _cause(error, socket.gaierror):
        return "The site's address was not found"
    if _cause(error, ConnectionRefusedError):
        return "The site refused the connection"
    return "Could not connect to the site"


def describe_error(error: Exception) -> str:
    """What went wrong, in words a moderator can act on."""
    if isinstance(error, PrivateAddress):
        return "Not opened: the link leads to a private network address, which members outside it cannot reach"
    if isinstance(error, httpx.ConnectTimeout):
        return f"Could not connect within {_seconds(settings.LINK_CHECK_CONNECT_TIMEOUT)}"
    if isinstance(error, httpx.TimeoutException):
        return f"No answer within {_seconds(settings.LINK_CHECK_TIMEOUT)}"
    if isinstance(error, httpx.ConnectError):
        return _connect_error(error)
    if isinstance(error, httpx.TooManyRedirects):
        return f"More than {settings.LINK_CHECK_MAX_REDIRECTS} redirects"
    if isinstance(error, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return "Not a web address the check can open (it must start with http:// or https://)"
    return "The site's answer could not be read"


class LinkChecker:
    """One HTTP client for a run, remembering when each site was last asked."""

    def __init__(self):
        self.client = httpx.Client(
            headers={"User-Agent": f"HealTalk link checker (+{settings.SITE_URL})"},
            timeout=httpx.Timeout(settings.LINK_CHECK_TIMEOUT, connect=settings.LINK_CHECK_CONNECT_TIMEOUT),
            follow_redirects=True,
            max_redirects=settings.LINK_CHECK_MAX_REDIRECTS,
            event_hooks={"request": [_refuse_private_addresses]},
        )
        self.last_asked: dict[str, float] = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.client.close()

    def _status(self, method: str, url: str) -> int:
        host = httpx.URL(url).host
        wait = self.last_asked.get(host, float("-inf")) + settings.LINK_CHECK_HOST_PAUSE - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        try:
            # Streamed, and closed without reading: a link to a 500 MB video costs the site a few bytes.
            with self.client.stream(method, url) as response:
                return response.status_code
        finally:
            self.last_asked[host] = time.monotonic()

    def check(self, url: str) -> str:
        """"" when the link works (2xx, or 3xx once redirects are followed), else what went wrong."""
        try:
            status = self._status("HEAD", url)
            if status in HEAD_REFUSED:
                status = self._status("GET", url)
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            return describe_error(error)
        if status >= 400:
            return f"The site answered {status} {httpx.codes.get_reason_phrase(status)}".rstrip()
        return ""


def _due(now: datetime):
    rested = now - timedelta(days=settings.LINK_CHECK_INTERVAL_DAYS)
    # A link that just failed once is tried again the next day, so that a dead link is flagged within days while a
    # site that was down for an hour is not.
    failed_once = Q(link_failures__gt=0, link_failures__lt=FAILURES_TO_FLAG,
                    link_checked_at__lt=now - timedelta(hours=20))
    return (
        Resource.objects.filter(status=Resource.Status.APPROVED).exclude(url="")
        .filter(Q(link_checked_at__isnull=True) | Q(link_checked_at__lt=rested) | failed_once)
    )


def _claim(now: datetime, batch_size: int) -> list[tuple[int, str]]:
    with transaction.atomic():
        # Rows another run is claiming are left to it.
        claimed = list(
            _due(now).order_by(F("link_checked_at").asc(nulls_first=True), "pk")
            .select_for_update(skip_locked=True).values_list("pk", "url")[:batch_size]
        )
        Resource.objects.filter(pk__in=[pk for pk, _ in claimed]).update(link_checked_at=now)
    return claimed


def _record(resource_id: int, url: str, error: str, now: datetime) -> bool:
    """Store one answer; True when it makes the link newly broken."""
    with transaction.atomic():
        resource = Resource.objects.select_for_update().only("url", "link_status", "link_failures").get(pk=resource_id)
        if resource.url != url:
            return False  # edited while we asked: the new link waits for its own check
        if not error:
            status, failures = Resource.LinkStatus.OK, 0
        else:
            failures = resource.link_failures + 1
            status = Resource.LinkStatus.BROKEN if failures >= FAILURES_TO_FLAG else resource.link_status
        Resource.objects.filter(pk=resource_id).update(
            link_status=status, link_failures=failures, link_error=error[:300], link_checked_at=now,
        )
        return status == Resource.LinkStatus.BROKEN and resource.link_status != Resource.LinkStatus.BROKEN


def _announce(resource_ids: list[int]) -> None:
    if resource_ids:
        ids = list(resource_ids)
        transaction.on_commit(lambda: resource_links_broken.send(Resource, resource_ids=ids))


def _check(checker: LinkChecker, claimed: list[tuple[int, str]], now: datetime, run: LinkCheckRun) -> None:
    for resource_id, url in claimed:
        error = checker.check(url)
        run.checked += 1
        run.failed += bool(error)
        if _record(resource_id, url, error, now):
            run.newly_broken.append(resource_id)


def check_resource_links(*, now: datetime | None = None, batch_size: int = BATCH_SIZE) -> LinkCheckRun:
    """Check every approved resource's link that is due, oldest-checked first."""
    now = now or timezone.now()
    run = LinkCheckRun()
    with LinkChecker() as checker:
        while claimed := _claim(now, batch_size):
            _check(checker, claimed, now, run)
    _announce(run.newly_broken)
    return run


def check_resource_link_now(resource: Resource) -> Resource:
    """A moderator's "Check again now": the same check for this one link, due or not."""
    run = LinkCheckRun()
    with LinkChecker() as checker:
        _check(checker, [(resource.id, resource.url)], timezone.now(), run)
    _announce(run.newly_broken)
    resource.refresh_from_db(fields=["link_status", "link_failures", "link_error", "link_checked_at"])
    return resource


def broken_resources():
    """The moderators' list: library resources whose link is flagged, longest failing first."""
    return (
        Resource.objects.filter(status=Resource.Status.APPROVED, link_status=Resource.LinkStatus.BROKEN)
        .select_related("submitted_by").defer("search_vector").order_by("-link_failures", "title", "pk")
    )


@transaction.atomic
def mark_link_working(resource: Resource, moderator: Member, reason: str = "") -> None:
    """A moderator's word that the link works (a site that refuses checkers, say): cleared until it fails twice
    again, and audited."""
    if not can_moderate(moderator.user):
        raise LinkCheckError("Only moderators can do this.")
    resource = Resource.objects.select_for_update().only("title", "submitted_by").get(pk=resource.pk)
    Resource.objects.filter(pk=resource.pk).update(
        link_status=Resource.LinkStatus.OK, link_failures=0, link_error="",
    )
    AuditRecord.objects.create(
        actor=moderator, action="resource_link_marked_working", subject_id=resource.submitted_by_id,
        target=f"Resource #{resource.pk} “{resource.title}”", reason=reason.strip(),
    )
