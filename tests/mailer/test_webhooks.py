"""Provider webhooks (anymail) deliver into the same inbound path as the MTA pipe."""

import base64
import hashlib
import hmac
import json
import time
import uuid

import pytest

from mailer.models import InboundMessage
from threads.models import Post

from .inbound_mail import eml, fixture_text, reply_address

BASIC_AUTH = "inbound:correct-webhook-secret"
SIGNING_KEY = "mailgun-webhook-signing-key"
GMAIL_MESSAGE_ID = "<CAF3xk2Lq0b9nS-WcH8Jp1Y2qM=dQ5u7Zc1vF3nT8o@mail.gmail.com>"


@pytest.fixture(autouse=True)
def _anymail_settings(settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": BASIC_AUTH, "MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY}


@pytest.fixture
def values(parent, replier):
    """What the fixtures' placeholders stand for in this test."""
    return {"sender": replier.email, "reply_address": reply_address(parent, replier),
            "parent_message_id": parent.message_id}


def auth(credentials: str = BASIC_AUTH) -> dict:
    return {"HTTP_AUTHORIZATION": f"Basic {base64.b64encode(credentials.encode()).decode()}"}


def mailgun_signed(fields: dict) -> dict:
    timestamp, token = str(int(time.time())), uuid.uuid4().hex
    signature = hmac.new(SIGNING_KEY.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    return {**fields, "timestamp": timestamp, "token": token, "signature": signature}


def mailgun_mime_form(values) -> dict:
    return mailgun_signed({
        "recipient": values["reply_address"],
        "sender": values["sender"],
        "body-mime": eml("gmail_reply.eml", **values).decode(),
    })


def postmark_json(values) -> str:
    return fixture_text("postmark_inbound.json", **values)


def assert_posted_reply(parent, replier, recipient):
    stored = InboundMessage.objects.get()
    assert stored.message_id == GMAIL_MESSAGE_ID
    assert stored.recipient == recipient
    assert stored.status == InboundMessage.Status.POSTED
    [post] = Post.objects.filter(parent=parent, source=Post.Source.EMAIL)
    assert post.author == replier
    assert post.body.startswith("We start with a short grounding exercise")
    assert post.body.endswith("Rosa")


def test_mailgun_inbound_mime_webhook_posts_the_reply(client, parent, replier, values,
                                                      django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/anymail/mailgun/inbound_mime/", mailgun_mime_form(values), **auth())

    assert response.status_code == 200
    assert_posted_reply(parent, replier, values["reply_address"])


def test_mailgun_inbound_parsed_webhook_posts_the_reply(client, parent, replier, values,
                                                        django_capture_on_commit_callbacks):
    fields = mailgun_signed(json.loads(fixture_text("mailgun_inbound_parsed.json", **values)))

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/anymail/mailgun/inbound/", fields, **auth())

    assert response.status_code == 200
    assert_posted_reply(parent, replier, values["reply_address"])


def test_postmark_inbound_webhook_posts_the_reply(client, parent, replier, values,
                                                  django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/anymail/postmark/inbound/", postmark_json(values),
                               content_type="application/json", **auth())

    assert response.status_code == 200
    assert_posted_reply(parent, replier, values["reply_address"])


@pytest.mark.parametrize("credentials", [None, "inbound:wrong-secret"])
def test_postmark_inbound_webhook_refuses_a_caller_without_the_secret(credentials, client, values):
    response = client.post("/anymail/postmark/inbound/", postmark_json(values), content_type="application/json",
                           **(auth(credentials) if credentials else {}))

    assert response.status_code == 400  # anymail: SuspiciousOperation
    assert not InboundMessage.objects.exists()


@pytest.mark.parametrize("credentials", [None, "inbound:wrong-secret"])
def test_mailgun_inbound_webhook_refuses_a_caller_without_the_secret(credentials, client, values):
    response = client.post("/anymail/mailgun/inbound_mime/", mailgun_mime_form(values),
                           **(auth(credentials) if credentials else {}))

    assert response.status_code == 400  # anymail: SuspiciousOperation
    assert not InboundMessage.objects.exists()


def test_mailgun_inbound_webhook_refuses_a_forged_signature(client, values):
    form = {**mailgun_mime_form(values), "signature": "0" * 64}

    response = client.post("/anymail/mailgun/inbound_mime/", form, **auth())

    assert response.status_code == 400  # anymail: SuspiciousOperation
    assert not InboundMessage.objects.exists()


def test_postmark_inbound_webhook_retried_by_the_provider_posts_once(client, parent, replier, values,
                                                                    django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post("/anymail/postmark/inbound/", postmark_json(values), content_type="application/json",
                            **auth())
        again = client.post("/anymail/postmark/inbound/", postmark_json(values), content_type="application/json",
                            **auth())

    assert (first.status_code, again.status_code) == (200, 200)  # a refused retry would be retried again
    assert InboundMessage.objects.count() == 1
    assert Post.objects.filter(parent=parent, source=Post.Source.EMAIL).count() == 1
