"""Bounces and complaints: provider tracking webhooks (Mailgun, Postmark) and bounce messages (DSNs) sent back to
our envelope address, from their documented payloads in tests/fixtures/."""

import base64
import hashlib
import hmac
import json
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from mailer import bounces
from mailer.models import DeliveryEvent, MailPreference
from mailer.tokens import make_bounce_address
from tests.conftest import login

from .inbound_mail import eml, fixture_text

Kind = DeliveryEvent.Kind
BASIC_AUTH = "tracking:correct-webhook-secret"
SIGNING_KEY = "mailgun-webhook-signing-key"


@pytest.fixture(autouse=True)
def _anymail_settings(settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": BASIC_AUTH, "MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY}
    settings.SOFT_BOUNCE_LIMIT = 3
    settings.SOFT_BOUNCE_WINDOW_DAYS = 7


@pytest.fixture
def reader(member_factory):
    return member_factory(full_name="Rae Reader", email="rae.reader@cascade.example.org")


def auth(credentials: str = BASIC_AUTH) -> dict:
    return {"HTTP_AUTHORIZATION": f"Basic {base64.b64encode(credentials.encode()).decode()}"}


def mailgun_payload(name: str, *, key: str = SIGNING_KEY, token: str | None = None, **values) -> str:
    """A documented Mailgun webhook body, signed as Mailgun signs it (HMAC-SHA256 of timestamp + token)."""
    payload = json.loads(fixture_text(name, **values))
    signature = payload["signature"]
    signature["token"] = token or uuid.uuid4().hex
    signature["signature"] = hmac.new(key.encode(), f"{signature['timestamp']}{signature['token']}".encode(),
                                      hashlib.sha256).hexdigest()
    return json.dumps(payload)


def post_mailgun(client, name, django_capture_on_commit_callbacks, **kwargs):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post("/anymail/mailgun/tracking/", mailgun_payload(name, **kwargs),
                           content_type="application/json", **auth())


def post_postmark(client, name, django_capture_on_commit_callbacks, credentials=BASIC_AUTH, **values):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post("/anymail/postmark/tracking/", fixture_text(name, **values),
                           content_type="application/json", **(auth(credentials) if credentials else {}))


def preference(member) -> MailPreference:
    return MailPreference.objects.get(member=member)


def assert_paused(member, words: str):
    paused = preference(member)
    assert paused.delivery_paused_at is not None
    assert words in paused.delivery_pause_reason and member.email in paused.delivery_pause_reason
    assert bounces.delivery_pause(member.id) == paused.delivery_pause_reason  # the banner's source


def assert_not_paused(member):
    assert preference(member).delivery_paused_at is None
    assert bounces.delivery_pause(member.id) is None


# Mailgun: "failed" with severity permanent is anymail's `bounced`, severity temporary its `deferred`.


def test_mailgun_permanent_failure_pauses_list_mail_at_once(client, reader, django_capture_on_commit_callbacks):
    response = post_mailgun(client, "mailgun_tracking_permanent_failure.json", django_capture_on_commit_callbacks,
                            recipient=reader.email.upper())

    assert response.status_code == 200
    event = DeliveryEvent.objects.get()
    assert (event.esp_name, event.event_type, event.kind, event.member) == ("Mailgun", "bounced", Kind.HARD_BOUNCE,
                                                                           reader)
    assert "does not exist" in event.description
    assert event.applied_at is not None
    assert_paused(reader, "does not accept mail")


def test_mailgun_temporary_failure_is_kept_but_counts_for_nothing(client, reader,
                                                                   django_capture_on_commit_callbacks):
    # Mailgun reports each retry (greylisting, a full mailbox for an hour) and keeps trying.
    for _ in range(4):
        post_mailgun(client, "mailgun_tracking_temporary_failure.json", django_capture_on_commit_callbacks,
                     recipient=reader.email, reason="generic")

    assert list(DeliveryEvent.objects.values_list("event_type", "kind").distinct()) == [("deferred", Kind.OTHER)]
    assert preference(reader).soft_bounces == 0
    assert_not_paused(reader)


def test_mailgun_given_up_retries_are_soft_bounces_that_pause_at_the_limit(client, reader,
                                                                          django_capture_on_commit_callbacks):
    for _ in range(2):
        post_mailgun(client, "mailgun_tracking_temporary_failure.json", django_capture_on_commit_callbacks,
                     recipient=reader.email, reason="old")

    assert preference(reader).soft_bounces == 2
    assert_not_paused(reader)

    post_mailgun(client, "mailgun_tracking_temporary_failure.json", django_capture_on_commit_callbacks,
                 recipient=reader.email, reason="old")

    assert set(DeliveryEvent.objects.values_list("kind", flat=True)) == {Kind.SOFT_BOUNCE}
    assert_paused(reader, "could not be delivered")


def test_mailgun_delivered_resets_the_soft_bounce_count(client, reader, django_capture_on_commit_callbacks):
    for name, reason in [("temporary_failure", "old"), ("temporary_failure", "old"), ("delivered", None),
                         ("temporary_failure", "old"), ("temporary_failure", "old")]:
        values = {"reason": reason} if reason else {}
        post_mailgun(client, f"mailgun_tracking_{name}.json", django_capture_on_commit_callbacks,
                     recipient=reader.email, **values)

    assert preference(reader).soft_bounces == 2
    assert DeliveryEvent.objects.count() == 4  # a delivery is not worth a row
    assert_not_paused(reader)


def test_mailgun_complaint_pauses_list_mail_at_once(client, reader, django_capture_on_commit_callbacks):
    post_mailgun(client, "mailgun_tracking_complained.json", django_capture_on_commit_callbacks,
                 recipient=reader.email)

    assert DeliveryEvent.objects.get().kind == Kind.COMPLAINT
    assert_paused(reader, "marked as spam")


def test_mailgun_webhook_retried_by_the_provider_is_stored_once(client, reader, django_capture_on_commit_callbacks):
    for _ in range(2):
        response = post_mailgun(client, "mailgun_tracking_temporary_failure.json",
                                django_capture_on_commit_callbacks, recipient=reader.email, reason="old",
                                token="same-token-both-times")
        assert response.status_code == 200

    assert DeliveryEvent.objects.count() == 1
    assert preference(reader).soft_bounces == 1


@pytest.mark.parametrize("credentials, key", [
    (None, SIGNING_KEY), ("tracking:wrong-secret", SIGNING_KEY), (BASIC_AUTH, "not-the-signing-key"),
])
def test_mailgun_tracking_webhook_refuses_a_caller_without_the_secrets(client, reader, credentials, key):
    body = mailgun_payload("mailgun_tracking_permanent_failure.json", key=key, recipient=reader.email)

    response = client.post("/anymail/mailgun/tracking/", body, content_type="application/json",
                           **(auth(credentials) if credentials else {}))

    assert response.status_code in (400, 401)
    assert not DeliveryEvent.objects.exists()
    assert_not_paused(reader)


# Postmark: RecordType Bounce with Type HardBounce is `bounced`; Type SoftBounce is `bounced` too in anymail, and
# counted here as a soft bounce; SpamComplaint is `complained`; SubscriptionChange `unsubscribed`.


def test_postmark_hard_bounce_pauses_list_mail_at_once(client, reader, django_capture_on_commit_callbacks):
    response = post_postmark(client, "postmark_tracking_hard_bounce.json", django_capture_on_commit_callbacks,
                             recipient=reader.email)

    assert response.status_code == 200
    event = DeliveryEvent.objects.get()
    assert (event.esp_name, event.event_id, event.kind) == ("Postmark", "4323372036854775807", Kind.HARD_BOUNCE)
    assert_paused(reader, "does not accept mail")


def test_postmark_soft_bounces_pause_list_mail_at_the_limit(client, reader, django_capture_on_commit_callbacks):
    now = timezone.now().isoformat()
    for bounce_id in ("101", "102"):
        post_postmark(client, "postmark_tracking_soft_bounce.json", django_capture_on_commit_callbacks,
                      recipient=reader.email, bounce_id=bounce_id, bounced_at=now)

    assert set(DeliveryEvent.objects.values_list("event_type", "kind")) == {("bounced", Kind.SOFT_BOUNCE)}
    assert_not_paused(reader)

    post_postmark(client, "postmark_tracking_soft_bounce.json", django_capture_on_commit_callbacks,
                  recipient=reader.email, bounce_id="103", bounced_at=now)

    assert_paused(reader, "mailbox may be full")


def test_postmark_soft_bounces_outside_the_window_start_the_count_again(client, reader,
                                                                       django_capture_on_commit_callbacks):
    long_ago = (timezone.now() - timedelta(days=10)).isoformat()
    for bounce_id in ("201", "202"):
        post_postmark(client, "postmark_tracking_soft_bounce.json", django_capture_on_commit_callbacks,
                      recipient=reader.email, bounce_id=bounce_id, bounced_at=long_ago)

    post_postmark(client, "postmark_tracking_soft_bounce.json", django_capture_on_commit_callbacks,
                  recipient=reader.email, bounce_id="203", bounced_at=timezone.now().isoformat())

    assert preference(reader).soft_bounces == 1
    assert_not_paused(reader)


def test_postmark_spam_complaint_pauses_list_mail(client, reader, django_capture_on_commit_callbacks):
    post_postmark(client, "postmark_tracking_spam_complaint.json", django_capture_on_commit_callbacks,
                  recipient=reader.email)

    assert DeliveryEvent.objects.get().kind == Kind.COMPLAINT
    assert_paused(reader, "marked as spam")


def test_postmark_unsubscribe_sets_mode_none_without_pausing(client, reader, django_capture_on_commit_callbacks):
    post_postmark(client, "postmark_tracking_unsubscribe.json", django_capture_on_commit_callbacks,
                  recipient=reader.email)

    assert DeliveryEvent.objects.get().kind == Kind.UNSUBSCRIBE
    assert preference(reader).mode == MailPreference.Mode.NONE
    assert_not_paused(reader)


def test_postmark_delivery_resets_the_soft_bounce_count(client, reader, django_capture_on_commit_callbacks):
    MailPreference.objects.filter(member=reader).update(soft_bounces=2)

    post_postmark(client, "postmark_tracking_delivery.json", django_capture_on_commit_callbacks,
                  recipient=reader.email)

    assert preference(reader).soft_bounces == 0
    assert not DeliveryEvent.objects.exists()


@pytest.mark.parametrize("credentials", [None, "tracking:wrong-secret"])
def test_postmark_tracking_webhook_refuses_a_caller_without_the_secret(client, reader, credentials,
                                                                       django_capture_on_commit_callbacks):
    response = post_postmark(client, "postmark_tracking_hard_bounce.json", django_capture_on_commit_callbacks,
                             credentials=credentials, recipient=reader.email)

    assert response.status_code in (400, 401)
    assert not DeliveryEvent.objects.exists()
    assert_not_paused(reader)


def test_bounce_from_unknown_address_is_kept_for_moderators(client, db, django_capture_on_commit_callbacks):
    post_postmark(client, "postmark_tracking_hard_bounce.json", django_capture_on_commit_callbacks,
                  recipient="someone.else@example.org")

    event = DeliveryEvent.objects.get()
    assert (event.member, event.recipient, event.applied_at is not None) == (None, "someone.else@example.org", True)


def test_hard_bounce_stops_the_next_list_message(client, reader, member, thread_factory, mailoutbox,
                                                 django_capture_on_commit_callbacks):
    post_postmark(client, "postmark_tracking_hard_bounce.json", django_capture_on_commit_callbacks,
                  recipient=reader.email)
    mailoutbox.clear()

    thread_factory(author=member, title="After the bounce")

    assert reader.email not in [address for message in mailoutbox for address in message.to]


# Bounce messages (RFC 3464 delivery status notifications) sent back to the member's VERP envelope address


def bounce_address(member, generation=0) -> str:
    return make_bounce_address(member_id=member.id, generation=generation)


def dsn(name, member, address=None) -> bytes:
    return eml(name, bounce_address=address or bounce_address(member), recipient=member.email)


def test_record_bounce_message_user_unknown_is_a_hard_bounce(reader, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        event = bounces.record_bounce_message(dsn("dsn_user_unknown.eml", reader), bounce_address(reader))

    assert (event.esp_name, event.event_type, event.kind, event.member) == ("dsn", "dsn", Kind.HARD_BOUNCE, reader)
    assert event.event_id == "<20250304141244.9F2E4601A7@mx.cascade.example.org>"
    assert event.recipient == reader.email
    assert "5.1.1" in event.description and "User unknown in virtual mailbox table" in event.description
    assert_paused(reader, "does not accept mail")


def test_record_bounce_message_mailbox_full_is_a_soft_bounce(reader, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        event = bounces.record_bounce_message(dsn("dsn_mailbox_full.eml", reader), bounce_address(reader))

    assert event.kind == Kind.SOFT_BOUNCE
    assert event.raw["status"] == "4.2.2"
    assert preference(reader).soft_bounces == 1
    assert_not_paused(reader)


def test_record_bounce_message_delay_warning_counts_for_nothing(reader, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        event = bounces.record_bounce_message(dsn("dsn_delayed.eml", reader), bounce_address(reader))

    assert event.kind == Kind.OTHER
    assert preference(reader).soft_bounces == 0
    assert_not_paused(reader)


def test_record_bounce_message_same_report_twice_is_stored_once(reader, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = bounces.record_bounce_message(dsn("dsn_mailbox_full.eml", reader), bounce_address(reader))
        second = bounces.record_bounce_message(dsn("dsn_mailbox_full.eml", reader), bounce_address(reader))

    assert first is not None and second is None
    assert DeliveryEvent.objects.count() == 1
    assert preference(reader).soft_bounces == 1


def test_record_bounce_message_to_withdrawn_address_records_nothing(reader):
    old_address = bounce_address(reader, generation=0)
    MailPreference.objects.filter(member=reader).update(token_generation=1)

    assert bounces.record_bounce_message(dsn("dsn_user_unknown.eml", reader, old_address), old_address) is None
    assert bounces.record_bounce_message(b"Subject: hi\n\nhello", "bounces-1-2-forged@example.org") is None
    assert not DeliveryEvent.objects.exists()


def test_record_bounce_message_auto_reply_to_envelope_address_records_nothing(reader, opening_post):
    auto_reply = eml("auto_reply.eml", sender=reader.email, reply_address=bounce_address(reader),
                     parent_message_id=opening_post.message_id)

    assert bounces.record_bounce_message(auto_reply, bounce_address(reader)) is None
    assert not DeliveryEvent.objects.exists()


# Applying, re-applying, and turning mail back on


def test_apply_delivery_event_twice_counts_once(reader, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        event = bounces.record_bounce_message(dsn("dsn_mailbox_full.eml", reader), bounce_address(reader))

    bounces.apply_delivery_event(event.id)

    assert preference(reader).soft_bounces == 1


def test_apply_stale_delivery_events_applies_reports_stored_while_the_broker_was_down(
    reader, django_capture_on_commit_callbacks
):
    event = bounces.record_bounce_message(dsn("dsn_user_unknown.eml", reader), bounce_address(reader))
    # Its task was never queued (on_commit did not run); beat finds it five minutes later.
    DeliveryEvent.objects.filter(pk=event.pk).update(received_at=timezone.now() - timedelta(minutes=6))

    with django_capture_on_commit_callbacks(execute=True):
        assert bounces.apply_stale_delivery_events() == 1

    assert_paused(reader, "does not accept mail")
    assert bounces.apply_stale_delivery_events() == 0


def test_resume_delivery_clears_the_pause_and_the_count(reader, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        bounces.record_bounce_message(dsn("dsn_user_unknown.eml", reader), bounce_address(reader))
    MailPreference.objects.filter(member=reader).update(soft_bounces=2)

    with django_capture_on_commit_callbacks(execute=True):
        bounces.resume_delivery(reader)

    assert (preference(reader).soft_bounces, preference(reader).delivery_pause_reason) == (0, "")
    assert_not_paused(reader)


# The banner


@pytest.fixture
def paused_reader(reader, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        bounces.record_bounce_message(dsn("dsn_user_unknown.eml", reader), bounce_address(reader))
    return reader


def test_paused_member_sees_the_banner_on_every_page(client, paused_reader, thread):
    login(client, paused_reader)

    for url in ["/", thread.get_absolute_url(), "/members/", "/mail/help/"]:
        page = client.get(url).content.decode()
        assert "List email to you is paused." in page, url
        assert "does not accept mail" in page, url
        assert 'action="/mail/resume/"' in page, url


def test_banner_turns_list_mail_back_on_and_returns_to_the_page(client, paused_reader, thread,
                                                               django_capture_on_commit_callbacks):
    login(client, paused_reader)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/mail/resume/", {"next": thread.get_absolute_url()})

    assert response["Location"] == thread.get_absolute_url()
    assert_not_paused(paused_reader)
    page = client.get(thread.get_absolute_url()).content.decode()
    assert "List email to you is paused." not in page
    assert "List email is on again." in page


def test_resume_never_redirects_off_site(client, paused_reader, django_capture_on_commit_callbacks):
    login(client, paused_reader)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/mail/resume/", {"next": "https://evil.example.com/"})

    assert response["Location"] == "/mail/settings/"


def test_member_whose_mail_works_sees_no_banner(client, member):
    login(client, member)

    assert "List email to you is paused." not in client.get("/").content.decode()
