import smtplib
from datetime import timedelta

import pytest
from django.core.mail.backends import locmem
from django.utils import timezone

from community.models import AuditRecord, Member
from mailer import inbound, notices
from mailer.models import MailPreference
from tests.conftest import login
from tests.mailer.inbound_mail import reply_eml
from threads.models import EConsultation, Post, Presenter, Subscription
from threads.services import PostingNotAllowed
from threads.webinars import NotAHost, create_econsultation, submit_question, write_summary

from .events_helpers import make_econsultation, make_webinar


def _summary_mail(mailoutbox):
    return [message for message in mailoutbox if message.subject.startswith("Summary: e-consultation")]


@pytest.fixture
def deliver(django_capture_on_commit_callbacks):
    def send(raw: bytes):
        with django_capture_on_commit_callbacks(execute=True):
            return inbound.receive_raw(raw)

    return send


def test_econsultation_state_follows_its_windows(moderator):
    econsultation = make_econsultation(moderator)
    opens, starts, ends = (timezone.now() + timedelta(days=d) for d in (1, 2, 3))
    econsultation.questions_open_at, econsultation.live_starts_at, econsultation.live_ends_at = opens, starts, ends
    minute = timedelta(minutes=1)

    assert econsultation.state(opens - minute) == "upcoming"
    assert econsultation.state(opens + minute) == "open for questions"
    assert econsultation.state(starts + minute) == "live"
    assert econsultation.state(ends + minute) == "closed"
    econsultation.summarised_at = ends + minute
    assert econsultation.state(ends + minute) == "summarised"


def test_econsultation_without_opening_time_takes_questions_until_live(moderator):
    econsultation = make_econsultation(moderator)
    econsultation.questions_open_at = None

    assert econsultation.state(econsultation.live_starts_at - timedelta(days=30)) == "open for questions"


def test_create_econsultation_defaults_to_a_live_window_a_week_after_the_webinar(moderator, member_factory):
    presenter = member_factory(full_name="Lena Marsh")
    webinar = make_webinar()
    Presenter.objects.create(webinar=webinar, name="Dr. Lena Marsh", member=presenter)
    Presenter.objects.create(webinar=webinar, name="Guest speaker without an account")

    econsultation = create_econsultation(webinar, moderator=moderator)

    assert econsultation.live_starts_at == webinar.starts_at + timedelta(days=7)
    assert econsultation.live_ends_at - econsultation.live_starts_at == webinar.ends_at - webinar.starts_at
    assert econsultation.questions_open_at == webinar.starts_at
    assert set(econsultation.hosts.all()) == {presenter, moderator}
    thread = econsultation.thread
    assert (thread.category.name, thread.author) == ("E-consultations", moderator)
    assert webinar.title in thread.title
    assert AuditRecord.objects.filter(actor=moderator, action="econsultation_created").exists()


def test_create_econsultation_refused_to_member(member):
    with pytest.raises(PostingNotAllowed):
        create_econsultation(make_webinar(), moderator=member)

    assert not EConsultation.objects.exists()


def test_new_econsultation_page_opens_one_for_moderator(client, moderator):
    webinar = make_webinar()
    login(client, moderator)

    response = client.post(f"/events/{webinar.pk}/e-consultation/new/", {"live_starts_at": "", "live_ends_at": ""})

    assert response["Location"] == f"/events/{webinar.pk}/"
    assert webinar.econsultation.live_starts_at == webinar.starts_at + timedelta(days=7)


def test_new_econsultation_page_forbidden_to_member(client, member):
    webinar = make_webinar()
    login(client, member)

    assert client.post(f"/events/{webinar.pk}/e-consultation/new/").status_code == 403
    assert not EConsultation.objects.exists()


def test_ask_question_posts_a_question_that_is_emailed(client, member, member_factory, moderator, mailoutbox,
                                                       django_capture_on_commit_callbacks):
    econsultation = make_econsultation(moderator)
    reader = member_factory(mail_mode=MailPreference.Mode.EACH)
    login(client, member)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/events/{econsultation.webinar_id}/question/",
                               {"body": "How do you close a group well?"})

    question = Post.objects.get(body="How do you close a group well?")
    assert response["Location"] == question.get_absolute_url()
    assert question.is_question and question.author == member
    assert question.parent == econsultation.thread.posts.get(parent__isnull=True)
    assert any(reader.email in message.to and "close a group well" in message.body for message in mailoutbox)


@pytest.mark.parametrize("state", [EConsultation.UPCOMING, EConsultation.CLOSED])
def test_ask_question_refused_outside_question_time(state, client, member, moderator):
    econsultation = make_econsultation(moderator, state)
    login(client, member)

    response = client.post(f"/events/{econsultation.webinar_id}/question/", {"body": "Too late?"})

    assert response.status_code == 200
    assert "not taking questions now" in response.content.decode()
    assert not Post.objects.filter(body="Too late?").exists()


def test_submit_question_accepted_while_live(member, moderator):
    econsultation = make_econsultation(moderator, EConsultation.LIVE)

    assert submit_question(author=member, econsultation=econsultation, body="Live question").is_question


def test_webinar_page_offers_question_form_only_when_open(client, member, moderator):
    open_one = make_econsultation(moderator)
    closed = make_econsultation(moderator, EConsultation.CLOSED)
    login(client, member)

    assert "Submit a question" in client.get(f"/events/{open_one.webinar_id}/").content.decode()
    assert "Submit a question" not in client.get(f"/events/{closed.webinar_id}/").content.decode()


def test_webinar_page_lists_questions(client, member, moderator):
    econsultation = make_econsultation(moderator)
    submit_question(author=member, econsultation=econsultation, body="What about interpreters in groups?")
    login(client, member)

    page = client.get(f"/events/{econsultation.webinar_id}/").content.decode()

    assert "Questions (1)" in page
    assert "What about interpreters in groups?" in page


def test_email_reply_while_open_for_questions_is_a_question(member, moderator, deliver):
    econsultation = make_econsultation(moderator)
    opening = econsultation.thread.posts.get()

    deliver(reply_eml("gmail_reply.eml", opening, member))

    assert Post.objects.get(parent=opening, source=Post.Source.EMAIL).is_question


def test_email_reply_to_an_ordinary_thread_is_not_a_question(member, thread, deliver):
    opening = thread.posts.get()

    deliver(reply_eml("gmail_reply.eml", opening, member))

    assert not Post.objects.get(parent=opening, source=Post.Source.EMAIL).is_question


def test_email_reply_while_live_is_not_marked_a_question(member, moderator, deliver):
    econsultation = make_econsultation(moderator, EConsultation.LIVE)
    opening = econsultation.thread.posts.get()

    deliver(reply_eml("gmail_reply.eml", opening, member))

    assert not Post.objects.get(parent=opening, source=Post.Source.EMAIL).is_question


def test_write_summary_mails_every_member_who_gets_list_mail_once(moderator, member_factory, mailoutbox,
                                                                  django_capture_on_commit_callbacks):
    econsultation = make_econsultation(moderator, EConsultation.CLOSED)
    poster, watcher = member_factory(), member_factory()
    missed_it = member_factory(mail_mode=MailPreference.Mode.WEEKLY)  # neither posted nor watched: gets it too
    quiet = member_factory(mail_mode=MailPreference.Mode.NONE)
    bouncing = member_factory()
    MailPreference.objects.filter(member=bouncing).update(delivery_paused_at=timezone.now())
    member_factory(status=Member.Status.SUSPENDED)
    for author in (poster, quiet):
        Post.objects.create(thread=econsultation.thread, author=author, body="Thanks", html="<p>Thanks</p>",
                            message_id=f"<{author.pk}@test>")
    Subscription.objects.create(member=watcher, thread=econsultation.thread, level=Subscription.Level.WATCH)
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        write_summary(econsultation=econsultation, author=moderator, summary="**Groups** need an ending ritual.")
    with django_capture_on_commit_callbacks(execute=True):
        write_summary(econsultation=econsultation, author=moderator, summary="Groups need a *closing* ritual.")

    econsultation.refresh_from_db()
    assert econsultation.state() == "summarised"
    assert econsultation.summary_html == "<p>Groups need a <em>closing</em> ritual.</p>\n"
    assert econsultation.summarised_by == moderator
    mails = _summary_mail(mailoutbox)
    assert sorted(address for message in mails for address in message.to) == sorted(
        [poster.email, watcher.email, missed_it.email, moderator.email])
    assert "ending ritual" in mails[0].body
    assert "<strong>Groups</strong>" in mails[0].alternatives[0][0]


class RefusesSecondMessage(locmem.EmailBackend):
    """A mail server that drops the connection after the first message of a run."""

    sent = 0

    def send_messages(self, messages):
        if RefusesSecondMessage.sent >= 1:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        RefusesSecondMessage.sent += len(messages)
        return super().send_messages(messages)


def test_send_econsultation_summary_retry_sends_to_the_rest_only(moderator, member_factory, mailoutbox, settings):
    econsultation = make_econsultation(moderator, EConsultation.CLOSED)
    posters = [member_factory(), member_factory()]
    for author in posters:
        Post.objects.create(thread=econsultation.thread, author=author, body="Thanks", html="<p>Thanks</p>",
                            message_id=f"<{author.pk}@test>")
    EConsultation.objects.filter(pk=econsultation.pk).update(
        summary="Done.", summary_html="<p>Done.</p>", summarised_at=timezone.now(), summarised_by=moderator)
    mailoutbox.clear()
    settings.EMAIL_BACKEND = f"{__name__}.RefusesSecondMessage"
    RefusesSecondMessage.sent = 0

    with pytest.raises(smtplib.SMTPServerDisconnected):
        notices.send_econsultation_summary(econsultation.id)
    assert len(_summary_mail(mailoutbox)) == 1

    RefusesSecondMessage.sent = -10  # the server is back
    notices.send_econsultation_summary(econsultation.id)
    notices.send_econsultation_summary(econsultation.id)

    recipients = sorted(address for message in _summary_mail(mailoutbox) for address in message.to)
    assert recipients == sorted([*(member.email for member in posters), moderator.email])


def test_write_summary_refused_before_the_live_window_closes(moderator):
    econsultation = make_econsultation(moderator, EConsultation.LIVE)

    with pytest.raises(PostingNotAllowed):
        write_summary(econsultation=econsultation, author=moderator, summary="Too early")


def test_write_summary_refused_to_member_who_is_not_a_host(member, moderator):
    econsultation = make_econsultation(moderator, EConsultation.CLOSED)

    with pytest.raises(NotAHost):
        write_summary(econsultation=econsultation, author=member, summary="Mine")


def test_summary_page_lets_a_presenter_host_write_it(client, member, moderator):
    econsultation = make_econsultation(moderator, EConsultation.CLOSED)
    econsultation.hosts.add(member)
    login(client, member)

    response = client.post(f"/events/{econsultation.webinar_id}/summary/", {"summary": "We learned *a lot*."})

    assert response["Location"] == f"/events/{econsultation.webinar_id}/"
    page = client.get(response["Location"]).content.decode()
    assert "<p>We learned <em>a lot</em>.</p>" in page
    assert "Summary available" in page


def test_summary_page_forbidden_to_member_who_is_not_a_host(client, member, moderator):
    econsultation = make_econsultation(moderator, EConsultation.CLOSED)
    login(client, member)

    assert client.get(f"/events/{econsultation.webinar_id}/summary/").status_code == 403
    assert client.post(f"/events/{econsultation.webinar_id}/summary/", {"summary": "x"}).status_code == 403
