import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import URLResolver, get_resolver, resolve
from django.utils.regex_helper import normalize

from community.access import NotAMember, can_moderate, can_post, can_read, member_of, require_member
from community.models import Application, ErasureRequest, Member, User
from tests.conftest import login
from threads.models import Attachment, Category, Post

# Paths anyone may open. Adding a prefix here is a decision that those pages are public: everything else
# must be closed to anonymous visitors and to accounts that are not active members.
PUBLIC_PREFIXES = (
    "/accounts/",
    "/application/",
    "/guidelines/",
    "/static/",
    "/mail/unsubscribe/",
    "/anymail/",
    "/healthz",
    "/favicon.ico",
    # Calendar and feed readers cannot sign in. Access is by the unguessable token in the URL, looked up to its
    # member and checked with community.access.member_of, so a suspended or lapsed member's feed stops working.
    "/feeds/private/",
)

NOT_MEMBER_STATUSES = [
    Member.Status.PENDING, Member.Status.REJECTED, Member.Status.SUSPENDED, Member.Status.LAPSED,
    Member.Status.DEPARTED,
]


@pytest.fixture
def post(thread):
    return thread.posts.get()


@pytest.fixture
def application(pending_member):
    return Application.objects.get(member=pending_member)


@pytest.fixture
def site_urls(thread, post, application):
    return {
        "home": "/",
        "category": thread.category.get_absolute_url(),
        "thread": thread.get_absolute_url(),
        "new thread": "/threads/new/",
        "reply": f"/posts/{post.id}/reply/",
        "moderation queue": "/moderation/applications/",
        "approve": f"/moderation/applications/{application.id}/approve/",
        "reject": f"/moderation/applications/{application.id}/reject/",
    }


def _all_url_patterns(patterns, prefix=""):
    for pattern in patterns:
        # normalize() turns a pattern's regex into a format string and its parameter names.
        fmt, params = normalize(pattern.pattern.regex.pattern)[0]
        if isinstance(pattern, URLResolver):
            yield from (
                (prefix + fmt + inner_fmt, params + inner_params)
                for inner_fmt, inner_params in _all_url_patterns(pattern.url_patterns)
            )
        else:
            yield prefix + fmt, params


def every_sample_url(values):
    """One concrete URL for every pattern the project resolves, with ids of real objects where known."""
    urls = set()
    for fmt, params in _all_url_patterns(get_resolver().url_patterns):
        url = "/" + fmt % {name: values.get(name, "1") for name in params}
        resolve(url)  # a sample that does not resolve would test the 404 page, not the view
        urls.add(url)
    return sorted(urls)


@pytest.fixture
def sample_urls(thread, post, application, member, organization, member_factory, resource_factory):
    attachment = Attachment.objects.create(post=post, file="attachments/sample", original_name="slides.pdf",
                                           content_type="application/pdf", size=1)
    erasure = ErasureRequest.objects.create(member=member_factory(status=Member.Status.DEPARTED))
    resource = resource_factory(url="https://example.org/guide.pdf")
    urls = every_sample_url({
        "thread_id": thread.id, "post_id": post.id, "application_id": application.id,
        "slug": thread.category.slug, "member_id": member.id, "organization_id": organization.id,
        "attachment_id": attachment.id, "name": attachment.original_name, "request_id": erasure.id,
        "resource_id": resource.id,
    })
    # The walk must reach our own pages, or it would check nothing that matters.
    assert {thread.get_absolute_url(), f"/posts/{post.id}/reply/", "/moderation/applications/",
            "/profile/data/download/", f"/moderation/erasure/{erasure.id}/erase/", resource.get_absolute_url(),
            f"/moderation/resources/{resource.id}/", "/start/", "/moderation/start-here/"} <= set(urls)
    return [url for url in urls if not url.startswith(PUBLIC_PREFIXES)]


@pytest.fixture(params=NOT_MEMBER_STATUSES)
def non_member(request, member_factory):
    return member_factory(status=request.param)


def test_site_pages_redirect_anonymous_visitor_to_login(client, site_urls):
    for name, url in site_urls.items():
        response = client.get(url)

        assert response.status_code == 302, name
        assert response["Location"] == f"/accounts/login/?next={url}", name


def test_site_pages_redirect_non_member_to_application(client, non_member, site_urls):
    login(client, non_member)
    for name, url in site_urls.items():
        response = client.get(url)

        assert response.status_code == 302, (non_member.status, name)
        assert response["Location"] == "/application/", (non_member.status, name)


def test_site_pages_redirect_account_without_member_to_application(client, db, site_urls):
    client.force_login(User.objects.create_user(email="nobody@example.org", password="x" * 12))
    for name, url in site_urls.items():
        response = client.get(url)

        assert response["Location"] == "/application/", name


def test_non_member_reply_post_is_refused(client, non_member, post):
    login(client, non_member)

    response = client.post(f"/posts/{post.id}/reply/", {"body": "Let me in"})

    assert response["Location"] == "/application/"
    assert not Post.objects.filter(body="Let me in").exists()


def test_site_pages_open_to_active_member(client, member, site_urls):
    login(client, member)
    for name in ["home", "category", "thread", "new thread", "reply"]:
        assert client.get(site_urls[name]).status_code == 200, name


def test_moderation_queue_forbidden_to_non_moderator(client, member, site_urls):
    login(client, member)

    assert client.get(site_urls["moderation queue"]).status_code == 403
    assert client.post(site_urls["approve"]).status_code == 403
    assert client.post(site_urls["reject"], {"reason": "No."}).status_code == 403


def test_moderation_queue_open_to_moderator(client, moderator, site_urls):
    login(client, moderator)

    assert client.get(site_urls["moderation queue"]).status_code == 200


def test_every_url_closed_to_anonymous_visitor(client, sample_urls):
    for url in sample_urls:
        for response in (client.get(url), client.post(url)):
            assert not 200 <= response.status_code < 300, (url, response.status_code)
            assert response.get("Location", "").startswith("/accounts/login/"), (url, response.status_code)


def test_every_url_closed_to_accounts_that_are_not_members(client, non_member, sample_urls):
    login(client, non_member)
    for url in sample_urls:
        for response in (client.get(url), client.post(url)):
            assert not 200 <= response.status_code < 300, (non_member.status, url, response.status_code)
            assert response.get("Location") == "/application/", (non_member.status, url, response.status_code)


# Pages for moderators and staff only; a member who is neither must get no 2xx from any of them.
PRIVILEGED_PREFIXES = ("/moderation/", "/admin/", "/dev/")


def test_every_privileged_url_closed_to_plain_member(client, member, sample_urls):
    login(client, member)
    # The admin's login page only tells a signed-in member they are not authorized (anonymous visitors never
    # reach it: the middleware sends them to allauth's sign-in, with its rate limits and two-step verification).
    privileged = [url for url in sample_urls if url.startswith(PRIVILEGED_PREFIXES) and url != "/admin/login/"]
    assert any(url.startswith("/moderation/members/") for url in privileged)
    for url in privileged:
        for response in (client.get(url), client.post(url)):
            assert not 200 <= response.status_code < 300, (url, response.status_code)
            assert not response.get("Location", "").startswith("/moderation/"), url


def test_member_of_returns_only_active_members(member, non_member):
    assert member_of(member.user) == member
    assert member_of(non_member.user) is None
    assert member_of(AnonymousUser()) is None
    assert member_of(None) is None


def test_member_of_account_without_member_is_none(db):
    assert member_of(User.objects.create_user(email="nobody@example.org")) is None


def test_require_member_raises_for_non_member(member, non_member):
    assert require_member(member.user) == member
    with pytest.raises(NotAMember):
        require_member(non_member.user)
    with pytest.raises(NotAMember):
        require_member(AnonymousUser())


def test_can_read_only_members(member, non_member, thread):
    assert can_read(member.user, thread)
    assert not can_read(non_member.user, thread)
    assert not can_read(AnonymousUser(), thread)


def test_can_post_open_thread(member, non_member, thread, post):
    assert can_post(member.user, thread)
    assert can_post(member.user, post)
    assert not can_post(non_member.user, thread)
    assert not can_post(AnonymousUser(), thread)


def test_can_post_locked_thread_refused_even_to_moderator(member, moderator, thread, post):
    thread.locked = True
    thread.save()
    post.refresh_from_db()

    assert not can_post(member.user, thread)
    assert not can_post(member.user, post)
    assert not can_post(moderator.user, thread)


def test_can_post_moderators_only_category_reserves_new_threads(member, moderator, thread_factory):
    announcements = Category.objects.create(name="Announcements", moderators_only=True)
    thread = thread_factory(author=moderator, cat=announcements)

    assert not can_post(member.user, announcements)
    assert can_post(moderator.user, announcements)
    # Only starting threads is reserved: members reply to announcements.
    assert can_post(member.user, thread)
    assert can_post(member.user, thread.posts.get())


def test_can_moderate_only_active_moderators(member, moderator, member_factory):
    suspended_moderator = member_factory(role=Member.Role.MODERATOR, status=Member.Status.SUSPENDED)

    assert can_moderate(moderator.user)
    assert not can_moderate(member.user)
    assert not can_moderate(suspended_moderator.user)
    assert not can_moderate(AnonymousUser())
