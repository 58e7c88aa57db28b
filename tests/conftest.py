"""Factories as fixtures. Everything runs against real PostgreSQL and Redis (see pyproject's pytest env)."""

import importlib
import itertools
import uuid

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from channels.db import database_sync_to_async
from django.apps import apps as django_apps
from django.core.cache import cache
from django.db import connections
from django.utils import timezone

from community.celery import app as celery_app
from community.models import Application, EligibilityBasis, Member, Organization, User
from mailer.models import MailPreference
from threads.markdown import render_markdown
from threads.models import Category, Resource, ResourceTopic
from threads.services import create_reply, create_thread

PASSWORD = "correct-horse-battery-staple"
_counter = itertools.count(1)


@pytest.fixture(autouse=True)
def _celery_eager(settings):
    """Tasks run in-process unless a test starts a real worker (see tests/mailer/test_worker.py)."""
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture(autouse=True)
def _topics_as_migrated(request):
    """The library's topics are seeded by a migration, but a transactional test (a browser, a real worker) ends by
    flushing every table: put them back for the tests that come after, as the migration left them."""
    if "db" not in request.fixturenames and "transactional_db" not in request.fixturenames:
        return
    request.getfixturevalue("transactional_db" if "transactional_db" in request.fixturenames else "db")
    if not ResourceTopic.objects.exists():
        importlib.import_module("threads.migrations.0005_resource_library").seed_topics(django_apps, None)


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    # The production hasher takes about half a second per user; tests create hundreds of users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _own_cache_namespace(settings):
    """allauth's rate limits and cached sessions live in the shared Redis cache: without a namespace per test
    they carry over between tests and runs (a few signups later every signup answers 429)."""
    prefix = f"{settings.CACHES['default']['KEY_PREFIX']}-{uuid.uuid4().hex[:12]}"
    settings.CACHES = {"default": {**settings.CACHES["default"], "KEY_PREFIX": prefix}}
    yield
    client = cache._cache.get_client(write=True)
    keys = list(client.scan_iter(match=f"{prefix}:*"))
    if keys:
        client.delete(*keys)


@pytest.fixture
def organization_factory(db):
    def make(**fields):
        n = next(_counter)
        fields.setdefault("name", f"Healing Center {n}")
        fields.setdefault("eligibility_basis", EligibilityBasis.ORR_TVRA_GRANTEE)
        fields.setdefault("email_domains", [f"center{n}.example.org"])
        return Organization.objects.create(**fields)

    return make


@pytest.fixture
def organization(organization_factory):
    return organization_factory(name="Cascade Center for Survivors", email_domains=["cascade.example.org"])


@pytest.fixture
def member_factory(db, organization):
    """An approved member with a verified email; status/role/mail_mode can be set. An active one has seen Start here
    already (welcomed), so signing in leads home; `new_member` has not."""

    def make(*, status=Member.Status.ACTIVE, role=Member.Role.MEMBER, mail_mode=MailPreference.Mode.EACH,
             email=None, full_name=None, org=None, welcomed=True):
        n = next(_counter)
        email = email or f"member{n}@cascade.example.org"
        user = User.objects.create_user(email=email, password=PASSWORD)
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        member = Member.objects.create(
            user=user, full_name=full_name or f"Member {n}", organization=org or organization,
            role_title="Clinician", status=status, role=role,
            welcomed_at=timezone.now() if welcomed and status == Member.Status.ACTIVE else None,
        )
        MailPreference.objects.create(member=member, mode=mail_mode)
        return member

    return make


@pytest.fixture
def member(member_factory):
    return member_factory(full_name="Dana Member")


@pytest.fixture
def new_member(member_factory):
    """Just approved: has not finished Start here (nor taken the pledge there), and gets the default daily digest."""
    return member_factory(full_name="Nia Newcomer", welcomed=False, mail_mode=MailPreference.Mode.DAILY)


@pytest.fixture
def held_member(member_factory):
    """A member whose every post waits for a moderator (Google Groups' "moderate" posting permission)."""
    held = member_factory(full_name="Hal Held")
    Member.objects.filter(pk=held.pk).update(posts_held=True)
    held.posts_held = True
    return held


def enable_totp(user) -> str:
    """Two-step sign-in as allauth sets it up (moderator pages require it); returns the TOTP secret."""
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    RecoveryCodes.activate(user)
    return secret


@pytest.fixture
def moderator(member_factory):
    moderator = member_factory(role=Member.Role.MODERATOR, full_name="Mo Derator")
    enable_totp(moderator.user)
    return moderator


@pytest.fixture
def admin(member_factory):
    admin = member_factory(role=Member.Role.ADMIN, full_name="Ada Admin")
    enable_totp(admin.user)
    return admin


@pytest.fixture
def applicant_factory(member_factory, organization):
    def make(**kwargs):
        kwargs.setdefault("status", Member.Status.PENDING)
        applicant = member_factory(**kwargs)
        Application.objects.create(
            member=applicant, eligibility_category=EligibilityBasis.ORR_TVRA_GRANTEE, organization=organization,
            role_title="Case manager", work_email=applicant.user.email, statement="I work with survivors.",
        )
        return applicant

    return make


@pytest.fixture
def pending_member(applicant_factory):
    return applicant_factory(full_name="Pat Pending")


@pytest.fixture
def category(db):
    return Category.objects.create(name="Clinical questions", description="Ask and answer clinical questions.")


@pytest.fixture
def other_category(db):
    return Category.objects.create(name="Program management")


@pytest.fixture
def thread_factory(category, member, django_capture_on_commit_callbacks):
    def make(*, author=None, title="Group work with new arrivals", body="How do you start a group?", cat=None):
        with django_capture_on_commit_callbacks(execute=True):
            return create_thread(author=author or member, category=cat or category, title=title, body=body)

    return make


@pytest.fixture
def thread(thread_factory):
    return thread_factory()


@pytest.fixture
def opening_post(thread):
    return thread.posts.get()


@pytest.fixture
def reply_factory(django_capture_on_commit_callbacks):
    def make(*, author, parent, body="A reply."):
        with django_capture_on_commit_callbacks(execute=True):
            return create_reply(author=author, parent=parent, body=body)

    return make


def login(client, member):
    client.force_login(member.user)
    return client


@pytest.fixture
def member_client(client, member):
    return login(client, member)


@pytest.fixture
def moderator_client(client, moderator):
    return login(client, moderator)


@pytest.fixture
def own_channel_prefix(settings):
    """Redis pub/sub ignores the database number: without a prefix of its own, another test run on this Redis
    posting in a thread with the same id would reach this test's sockets."""
    layer = settings.CHANNEL_LAYERS["default"]
    config = {**layer["CONFIG"], "prefix": f"{layer['CONFIG']['prefix']}-{uuid.uuid4().hex[:8]}"}
    settings.CHANNEL_LAYERS = {"default": {**layer, "CONFIG": config}}


@pytest.fixture
async def close_worker_thread_connections():
    yield
    # ORM calls ran in asgiref's worker thread; its connection would outlive the test and block dropping the
    # test database at the end of the run.
    await database_sync_to_async(connections.close_all)()


@pytest.fixture
def resource_factory(db, member):
    """A library resource, approved by default (the library's tests); `topics` are ResourceTopic slugs."""
    def make(*, title="Working with interpreters", description="A guide to **sessions** with interpreters.",
             topics=(), status=Resource.Status.APPROVED, submitted_by=member, **fields):
        if status == Resource.Status.APPROVED:
            fields.setdefault("approved_at", timezone.now())
        resource = Resource.objects.create(title=title, description=description,
                                           description_html=render_markdown(description), status=status,
                                           submitted_by=submitted_by, **fields)
        resource.topics.set(ResourceTopic.objects.filter(slug__in=topics))
        return resource

    return make
