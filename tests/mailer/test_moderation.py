"""The moderators' mail page (/moderation/mail/): failed list mail and trying it again, paused members, delivery
reports, inbound mail turned away."""

import pytest
from django.utils import timezone

from mailer.models import DeliveryEvent, InboundMessage, MailPreference, OutboundMessage
from mailer.moderation import retry_failed_messages
from tests.conftest import login
from threads.services import create_reply

Status = OutboundMessage.Status


@pytest.fixture
def failed_factory(member, opening_post, member_factory):
    """A list message given up on after its retries (its fan-out never ran, so nothing else was sent)."""

    def make(reader=None, status=Status.FAILED):
        reply = create_reply(author=member, parent=opening_post, body="Tea first, then the agenda.")
        return OutboundMessage.objects.create(
            post=reply, member=reader or member_factory(full_name="Rae Reader"), status=status, attempts=9,
            last_error="SMTPServerDisconnected: Connection unexpectedly closed",
        )

    return make


def test_moderation_mail_shows_failed_messages_with_their_error(moderator_client, failed_factory):
    row = failed_factory()

    page = moderator_client.get("/moderation/mail/").content.decode()

    assert row.member.full_name in page and row.member.email in page
    assert row.post.thread.title in page
    assert "SMTPServerDisconnected: Connection unexpectedly closed" in page
    assert f'action="/moderation/mail/retry/{row.id}/"' in page
    assert '<a href="/moderation/mail/" aria-current="page">Mail</a>' in page


def test_retry_failed_message_sends_it_exactly_once(moderator_client, failed_factory, mailoutbox,
                                                    django_capture_on_commit_callbacks):
    row = failed_factory()
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = moderator_client.post(f"/moderation/mail/retry/{row.id}/", follow=True)

    assert [message.to for message in mailoutbox] == [[row.member.email]]
    assert OutboundMessage.objects.get(pk=row.pk).status == Status.SENT
    assert "1 message queued to be sent again." in response.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = moderator_client.post(f"/moderation/mail/retry/{row.id}/", follow=True)

    assert len(mailoutbox) == 1
    assert "Nothing to send again" in response.content.decode()


@pytest.mark.parametrize("status", [Status.SENT, Status.PENDING, Status.SKIPPED])
def test_retry_failed_messages_leaves_other_rows_alone(failed_factory, status, mailoutbox,
                                                       django_capture_on_commit_callbacks):
    row = failed_factory(status=status)
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert retry_failed_messages([row.id]) == 0

    assert mailoutbox == []
    assert OutboundMessage.objects.get(pk=row.pk).status == status


def test_retry_all_failed_messages(moderator_client, failed_factory, mailoutbox, django_capture_on_commit_callbacks):
    rows = [failed_factory(), failed_factory()]
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        moderator_client.post("/moderation/mail/retry/")

    assert sorted(address for message in mailoutbox for address in message.to) == sorted(
        row.member.email for row in rows)
    assert set(OutboundMessage.objects.values_list("status", flat=True)) == {Status.SENT}


def test_retry_of_a_member_who_no_longer_wants_it_sends_nothing(moderator_client, failed_factory, member_factory,
                                                                 mailoutbox, django_capture_on_commit_callbacks):
    row = failed_factory(reader=member_factory(mail_mode=MailPreference.Mode.NONE))
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        moderator_client.post(f"/moderation/mail/retry/{row.id}/")

    assert mailoutbox == []
    assert OutboundMessage.objects.get(pk=row.pk).status == Status.SKIPPED


def test_moderation_mail_shows_paused_members_reports_and_mail_turned_away(moderator_client, member_factory):
    paused = member_factory(full_name="Pia Paused")
    MailPreference.objects.filter(member=paused).update(
        delivery_paused_at=timezone.now(), delivery_pause_reason="A message from the list was marked as spam.")
    DeliveryEvent.objects.create(esp_name="Postmark", event_id="7", event_type="bounced",
                                 kind=DeliveryEvent.Kind.HARD_BOUNCE, recipient=paused.email, member=paused,
                                 description="smtp;550 5.1.1 mailbox not found")
    InboundMessage.objects.create(message_id="<a@example.org>", raw="", sender="stranger@example.org",
                                  subject="Let me in", status=InboundMessage.Status.REJECTED,
                                  note="Not a member.")
    InboundMessage.objects.create(message_id="<b@example.org>", raw="", sender="rosa@example.org",
                                  subject="Out of office", status=InboundMessage.Status.IGNORED,
                                  note="Automatic reply.")
    InboundMessage.objects.create(message_id="<c@example.org>", raw="", sender="rosa@example.org",
                                  subject="Posted fine", status=InboundMessage.Status.POSTED)

    page = moderator_client.get("/moderation/mail/").content.decode()

    assert "Pia Paused" in page and "A message from the list was marked as spam." in page
    assert "smtp;550 5.1.1 mailbox not found" in page and "Bounced (address does not accept mail)" in page
    assert "Let me in" in page and "Not a member." in page
    assert "Out of office" in page and "Automatic reply." in page
    assert "Posted fine" not in page


@pytest.mark.parametrize("count", [1, 8])
def test_moderation_mail_query_count_is_constant(client, moderator, failed_factory, member_factory, count,
                                                 django_assert_num_queries):
    for n in range(count):
        row = failed_factory()
        MailPreference.objects.filter(member=row.member).update(delivery_paused_at=timezone.now(),
                                                                delivery_pause_reason="Bounced.")
        DeliveryEvent.objects.create(esp_name="dsn", event_id=f"<{n}@mx>", event_type="dsn",
                                     kind=DeliveryEvent.Kind.SOFT_BOUNCE, recipient=row.member.email,
                                     member=row.member)
        InboundMessage.objects.create(message_id=f"<{n}@example.org>", raw="", sender="x@example.org",
                                      status=InboundMessage.Status.REJECTED, note="Not a member.")
    login(client, moderator)
    client.get("/moderation/mail/")

    # user, member, TOTP check, held posts waiting (the moderation menu); failed messages and their count,
    # paused members, delivery reports, inbound mail turned away
    with django_assert_num_queries(9):
        page = client.get("/moderation/mail/").content.decode()

    assert page.count('action="/moderation/mail/retry/') == count + 1


def test_moderation_mail_is_closed_to_members(member_client, failed_factory):
    row = failed_factory()

    assert member_client.get("/moderation/mail/").status_code == 403
    assert member_client.post(f"/moderation/mail/retry/{row.id}/").status_code == 403
    assert member_client.post("/moderation/mail/retry/").status_code == 403
    assert OutboundMessage.objects.get(pk=row.pk).status == Status.FAILED
