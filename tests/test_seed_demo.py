from io import StringIO

from django.core.management import call_command

from community.models import Application, Member, Organization
from mailer.management.commands.seed_demo import DEMO_LOGINS, DEMO_PASSWORD, MODERATOR_EMAIL
from mailer.models import MailPreference
from threads.models import Category, EConsultation, GuardCheck, Post, Resource, ResourceCitation, Thread


def _seed(django_capture_on_commit_callbacks):
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_seed_demo_creates_the_demo_community_once(db, django_capture_on_commit_callbacks, mailoutbox):
    first = _seed(django_capture_on_commit_callbacks)
    counts = (Organization.objects.count(), Member.objects.count(), Thread.objects.count(), Post.objects.count())
    second = _seed(django_capture_on_commit_callbacks)

    assert "Demo community created" in first
    assert "Demo data already present" in second
    assert (Organization.objects.count(), Member.objects.count(), Thread.objects.count(),
            Post.objects.count()) == counts == (3, 4, 6, 15)
    assert Member.objects.filter(status=Member.Status.ACTIVE).count() == 3
    assert Member.objects.get(status=Member.Status.PENDING).applications.get().status == Application.Status.PENDING
    assert Category.objects.get(name="Announcements").moderators_only
    assert sorted(MailPreference.objects.values_list("mode", flat=True)) == ["daily", "each", "each"]
    consultation = EConsultation.objects.select_related("webinar", "thread").get()
    assert consultation.webinar.title == "Group Work with Survivors of Torture"
    assert consultation.state() == "live"
    assert list(consultation.webinar.presenter_set.values_list("name", flat=True)) == ["Dr. Lena Marsh", "Rafael Ortiz"]
    assert consultation.hosts.get().user.email == MODERATOR_EMAIL
    assert consultation.thread.posts.filter(is_question=True).count() == 1
    for email, _ in DEMO_LOGINS:
        assert email in second
    # The seed goes through the services, so their side effects ran too: approved applicants were told.
    recipients = {address for message in mailoutbox for address in message.to}
    assert {"amara.okafor@cascade.example.org", "tomas.lindqvist@prairie.example.org"} <= recipients


def test_seed_demo_logins_work(db, client, django_capture_on_commit_callbacks):
    _seed(django_capture_on_commit_callbacks)

    for email, _ in DEMO_LOGINS:
        assert client.login(email=email, password=DEMO_PASSWORD), email
        client.logout()
    moderator = Member.objects.get(user__email=MODERATOR_EMAIL)
    assert moderator.is_moderator and moderator.user.is_staff


def test_seed_demo_shows_the_guard_content_notes_and_anonymous_posting(db, django_capture_on_commit_callbacks):
    _seed(django_capture_on_commit_callbacks)

    held = Post.objects.get(held_at__isnull=False)
    assert (held.source, held.guard_checks.get().outcome) == (Post.Source.EMAIL, GuardCheck.Outcome.HELD)
    assert Post.objects.get(content_note="describes torture methods").held_at is None
    difficult = Category.objects.get(name="Difficult cases")
    assert difficult.allow_anonymous and difficult.web_only
    assert Post.objects.get(thread__category=difficult).anonymous


def test_seed_demo_fills_the_library_and_welcomes_the_established_members(db, django_capture_on_commit_callbacks):
    _seed(django_capture_on_commit_callbacks)

    approved = Resource.objects.filter(status=Resource.Status.APPROVED)
    assert approved.count() == 2 and Resource.objects.filter(status=Resource.Status.SUBMITTED).count() == 1
    assert approved.filter(audiences__contains=[Resource.Audience.NEW_EMPLOYEE]).count() == 2
    assert ResourceCitation.objects.filter(resource__title__startswith="Sleep after trauma").exists()
    assert Thread.objects.get(pinned=True).title.startswith("Welcome to HealTalk")
    assert not Member.objects.filter(status=Member.Status.ACTIVE, welcomed_at__isnull=True).exists()
