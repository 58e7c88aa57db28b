"""Onboarding (mailer.onboarding): a newly approved member's welcome on the web (Start here) and by email, the
words moderators keep, and the starter list in a constant number of queries."""

import email
import re
from datetime import timedelta
from email import policy

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone

from community.models import Application, AuditRecord, CommunityText, Member
from community.services import ModerationError, approve_application
from mailer.models import MailPreference
from mailer.onboarding import DEFAULT_TEXTS, save_community_texts, starter_list
from tests.conftest import PASSWORD, login
from tests.mailer.inbound_mail import eml, rejections
from tests.threads.events_helpers import make_econsultation, make_webinar
from threads.models import Category, EConsultation, Post, Resource, Thread
from threads.services import create_thread

PLEDGE_WORDS = "I will never post anything that could identify a client"
PLEDGE_SENTENCE = "never post anything that could identify a client"


@pytest.fixture
def introductions(db):
    return Category.objects.create(name="Introductions", slug="introductions", position=5,
                                   description="Say who you are and where you work.")


def _resource(title, audiences, approved_at=None, **fields):
    return Resource.objects.create(
        title=title, description="A guide.", description_html="<p>A guide.</p>", audiences=audiences,
        status=fields.pop("status", Resource.Status.APPROVED), approved_at=approved_at or timezone.now(), **fields)


@pytest.fixture
def starter_items(member, moderator, category, introductions):
    """One of each kind of starter item, and one of each that must stay out."""
    pinned = create_thread(author=moderator, category=category, title="Read this first: how we work", body="Hi.")
    Thread.objects.filter(pk=pinned.pk).update(pinned=True)
    create_thread(author=member, category=category, title="Not pinned at all", body="Just a thread.")
    econsultation = make_econsultation(moderator, EConsultation.OPEN,
                                       webinar=make_webinar(title="Interpreters in trauma care"))
    new_employee = _resource("Your first month in a torture treatment program", ["new_employee", "clinician"])
    _resource("Asylum law for advanced practitioners", ["legal"])
    _resource("A draft still under review", ["new_employee"], status=Resource.Status.SUBMITTED)
    return {"pinned": pinned, "econsultation": econsultation, "resource": new_employee}


@pytest.fixture
def approved_applicant(applicant_factory, moderator, mailoutbox, django_capture_on_commit_callbacks):
    """Approved by a moderator just now: the welcome email is sent, Start here not seen yet."""
    applicant = applicant_factory(full_name="Nia Newcomer", email="nia@cascade.example.org",
                                  mail_mode=MailPreference.Mode.DAILY)
    with django_capture_on_commit_callbacks(execute=True):
        approve_application(Application.objects.get(member=applicant), moderator)
    applicant.refresh_from_db()
    return applicant


def _sign_in(member):
    client = Client()
    response = client.post("/accounts/login/", {"login": member.email, "password": PASSWORD})
    return client, response


# --- The web path ---------------------------------------------------------------------------------------------

def test_start_here_welcomes_an_approved_member_from_first_sign_in_to_done(approved_applicant, starter_items):
    assert approved_applicant.welcomed_at is None
    client, signed_in = _sign_in(approved_applicant)
    assert signed_in["Location"] == "/start/"

    page = client.get("/start/").content.decode()
    assert "Welcome to HealTalk, a closed community" in page
    assert PLEDGE_WORDS in page and "A-numbers, USCIS receipt numbers" in page
    assert ">I agree</button>" in page
    assert "Never identify a client." in page and 'href="/guidelines/"' in page
    for mode in MailPreference.Mode:
        assert f'value="{mode.value}"' in page
    assert 'value="daily" aria-describedby="mode-daily-about" checked' in page  # a new member's default
    assert "around 7 am" in page
    assert 'href="/threads/new/?category=introductions"' in page
    assert f"introductions@{django_settings.LIST_DOMAIN}" in page
    assert "Read this first: how we work" in page
    assert "Interpreters in trauma care" in page and "Open for questions" in page
    assert "Your first month in a torture treatment program" in page
    assert "Done — take me to the discussions" in page

    assert client.post("/start/pledge/")["Location"] == "/start/#pledge"
    approved_applicant.refresh_from_db()
    assert approved_applicant.pledged_at is not None
    agreed = client.get("/start/").content.decode()
    assert "You agreed</strong> on" in agreed and ">I agree</button>" not in agreed

    saved = client.post("/start/", {"mode": "weekly", "time_zone": "America/Chicago"})
    assert saved["Location"] == "/start/?saved=email#email"
    assert MailPreference.objects.get(member=approved_applicant).mode == MailPreference.Mode.WEEKLY
    assert Member.objects.get(pk=approved_applicant.pk).time_zone == "America/Chicago"
    assert "List email now reaches you as: One weekly digest." in client.get(saved["Location"]).content.decode()

    assert client.post("/start/done/")["Location"] == "/"
    approved_applicant.refresh_from_db()
    assert approved_applicant.welcomed_at is not None
    assert "start-here-banner" not in client.get("/").content.decode()

    _, later = _sign_in(approved_applicant)
    assert later["Location"] == "/"


def test_start_here_agreeing_again_keeps_the_first_agreement(new_member, client):
    login(client, new_member)
    client.post("/start/pledge/")
    first = Member.objects.get(pk=new_member.pk).pledged_at

    client.post("/start/pledge/")

    assert Member.objects.get(pk=new_member.pk).pledged_at == first


def test_start_here_refuses_an_unknown_mode_and_keeps_the_time_zone_chosen(new_member, client):
    login(client, new_member)

    response = client.post("/start/", {"mode": "hourly", "time_zone": "America/Denver"})

    assert response.status_code == 400
    page = response.content.decode()
    assert "Not saved yet." in page and "Choose one of the five ways to get list email." in page
    assert '<option value="America/Denver" selected>' in page
    assert MailPreference.objects.get(member=new_member).mode == MailPreference.Mode.DAILY


def test_start_here_tells_how_many_emails_every_message_would_have_been(new_member, thread_factory, client):
    for n in range(8):
        thread_factory(title=f"Question {n}")
    Post.objects.filter(thread__title="Question 0").update(created_at=timezone.now() - timedelta(weeks=5))
    login(client, new_member)

    page = client.get("/start/").content.decode()

    assert "Over the last four weeks that was about 2 emails a week." in page  # 7 posts in 4 weeks


def test_home_shows_start_here_until_welcomed_and_the_menu_always(new_member, member, client):
    login(client, new_member)
    assert "New here? <a href=\"/start/\">Start here</a>" in client.get("/").content.decode()

    login(client, member)
    page = client.get("/").content.decode()
    assert "start-here-banner" not in page
    assert '<li><a href="/start/">Start here</a></li>' in page
    assert client.get("/start/").status_code == 200


def test_start_here_without_an_introductions_category_leaves_the_invitation_out(new_member, client):
    login(client, new_member)

    page = client.get("/start/").content.decode()

    assert "Say hello" not in page
    assert "Nothing is pinned yet." in page


def test_application_page_sends_a_member_approved_while_waiting_to_start_here(approved_applicant, client):
    login(client, approved_applicant)

    assert client.get("/application/")["Location"] == "/start/"


# --- The email path -------------------------------------------------------------------------------------------

def _parts(message):
    parsed = email.message_from_bytes(message.message().as_bytes(), policy=policy.default)
    return parsed.get_body(("plain",)).get_content(), parsed.get_body(("html",)).get_content()


def test_welcome_email_carries_the_pledge_mode_introductions_start_here_and_starter_list(
    starter_items, applicant_factory, moderator, mailoutbox, django_capture_on_commit_callbacks
):
    applicant = applicant_factory(full_name="Nia Newcomer", mail_mode=MailPreference.Mode.WEEKLY)
    with django_capture_on_commit_callbacks(execute=True):
        approve_application(Application.objects.get(member=applicant), moderator)

    [welcome] = mailoutbox
    assert welcome.subject == "Welcome to HealTalk"
    text, html = _parts(welcome)
    site = django_settings.SITE_URL
    address = f"introductions@{django_settings.LIST_DOMAIN}"
    pinned, econsultation, resource = starter_items.values()
    for part in (text, html):
        assert PLEDGE_SENTENCE in part
        assert "One weekly digest" in part and f"{site}/mail/settings/" in part
        assert address in part and f"{site}/threads/new/?category=introductions" in part
        assert f"{site}/start/" in part
        assert pinned.title in part and f"{site}{pinned.get_absolute_url()}" in part
        assert econsultation.webinar.title in part and "open for questions" in part
        assert resource.title in part and f"{site}{resource.get_absolute_url()}" in part
        assert "Asylum law for advanced practitioners" not in part and "Not pinned at all" not in part
    assert f'href="mailto:{address}"' in html
    assert f'href="{site}/start/"' in html


def test_email_only_member_introduces_themselves_by_writing_to_the_introductions_address(
    introductions, approved_applicant, deliver, mailoutbox
):
    text, _ = _parts(mailoutbox[0])
    [address] = re.findall(r"Introduce yourself: write to (\S+) ", text)

    deliver(eml("new_thread.eml", sender=approved_applicant.email, to=address, subject="Hello from Cascade"))

    [thread] = Thread.objects.filter(author=approved_applicant)
    assert (thread.category, thread.title) == (introductions, "Hello from Cascade")
    assert thread.posts.get().source == Post.Source.EMAIL
    assert rejections(mailoutbox) == []


# --- Moderators keep the words ----------------------------------------------------------------------------------

FORM = {"welcome": DEFAULT_TEXTS["welcome"], "pledge": DEFAULT_TEXTS["pledge"],
        "guidelines": DEFAULT_TEXTS["guidelines"]}


def test_edit_start_here_is_for_moderators_only(member_client):
    assert member_client.get("/moderation/start-here/").status_code == 403
    assert member_client.post("/moderation/start-here/", {**FORM, "welcome": "Mine now."}).status_code == 403
    assert not CommunityText.objects.exists()


def test_edit_start_here_shows_the_words_in_use(moderator_client):
    page = moderator_client.get("/moderation/start-here/").content.decode()

    assert "I will never post anything that could identify a client, on the website or by email." in page
    assert "The original words: no moderator has changed them yet." in page


def test_edit_start_here_tells_moderators_when_there_is_no_introductions_category(moderator_client, db):
    missing = "New members are not invited to introduce themselves yet:"
    assert missing in moderator_client.get("/moderation/start-here/").content.decode()

    Category.objects.create(name="Introductions", slug="introductions")
    assert missing not in moderator_client.get("/moderation/start-here/").content.decode()


def test_edit_start_here_previews_without_saving(moderator_client):
    response = moderator_client.post("/moderation/start-here/", {
        **FORM, "welcome": "Glad **you** are here.", "action": "preview"})

    assert "<p>Glad <strong>you</strong> are here.</p>" in response.content.decode()
    assert not CommunityText.objects.exists() and not AuditRecord.objects.exists()


def test_edit_start_here_saves_sanitised_audited_and_shown_at_once(moderator, moderator_client, new_member):
    guidelines = ("1. **Be kind.**\n2. Never identify a client.\n\n<script>alert(1)</script> "
                  "[see](javascript:alert(2))")

    response = moderator_client.post("/moderation/start-here/", {
        **FORM, "guidelines": guidelines, "welcome": "Glad **you** are here.", "action": "save"})

    assert response["Location"] == "/moderation/start-here/"
    saved = CommunityText.objects.get(key="guidelines")
    assert saved.updated_by == moderator and "<strong>Be kind.</strong>" in saved.html
    assert "<script>" not in saved.html and "&lt;script&gt;" in saved.html  # shown as words, never run
    assert 'href="javascript' not in saved.html
    assert sorted(AuditRecord.objects.filter(action="community_text_changed").values_list("target", flat=True)) == [
        "“Community guidelines”", "“Welcome (top of Start here)”"]  # the pledge was not changed
    assert not CommunityText.objects.filter(key="pledge").exists()

    public = Client().get("/guidelines/").content.decode()
    assert "<strong>Be kind.</strong>" in public and "<script>" not in public
    start = login(Client(), new_member).get("/start/").content.decode()
    assert "<p>Glad <strong>you</strong> are here.</p>" in start and "<strong>Be kind.</strong>" in start


def test_edit_start_here_keeps_what_was_typed_when_a_text_is_empty(moderator_client):
    response = moderator_client.post("/moderation/start-here/", {
        **FORM, "welcome": "  ", "pledge": "I promise & I mean it.", "action": "save"})

    assert response.status_code == 400
    page = response.content.decode()
    assert "Write a few words of welcome" in page
    assert "I promise &amp; I mean it." in page
    assert not CommunityText.objects.exists()


def test_guidelines_page_is_public_with_the_default_words(db, client):
    page = client.get("/guidelines/").content.decode()

    assert "Never identify a client." in page and "Not an emergency service." in page
    assert "Change these guidelines" not in page


# --- The starter list -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("count", [1, 10])
def test_starter_list_takes_three_queries_however_many_items(count, member, moderator, category,
                                                             django_assert_num_queries):
    for n in range(count):
        thread = create_thread(author=moderator, category=category, title=f"Pinned {n}", body="Read me.")
        Thread.objects.filter(pk=thread.pk).update(pinned=True)
        make_econsultation(moderator, EConsultation.CLOSED, webinar=make_webinar(title=f"Webinar {n}"))
        _resource(f"Resource {n}", ["new_employee"])

    with django_assert_num_queries(3):
        starter = starter_list(member)
        titles = [thread.category.name for thread in starter.pinned]
        states = [(ec.webinar.title, ec.state(), ec.thread.get_absolute_url()) for ec in starter.econsultations]

    assert len(titles) == min(count, 10) and len(states) == min(count, 3)
    assert len(starter.resources) == min(count, 5)


def test_starter_list_leaves_out_a_thread_waiting_for_a_moderator(member, moderator, category):
    held = create_thread(author=moderator, category=category, title="Waiting", body="Hi.")
    Thread.objects.filter(pk=held.pk).update(pinned=True, held_at=timezone.now())

    assert starter_list(member).pinned == []


def test_save_community_texts_refused_to_members(member):
    with pytest.raises(ModerationError):
        save_community_texts(moderator=member, bodies={"welcome": "Mine now."})

    assert not CommunityText.objects.exists()
