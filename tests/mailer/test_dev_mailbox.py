import pytest
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse

from mailer.models import CapturedEmail, InboundMessage
from threads.models import Post

pytestmark = pytest.mark.urls("tests.mailer.urls_with_dev")


@pytest.fixture(autouse=True)
def _capture_mail(settings):
    settings.EMAIL_BACKEND = "mailer.backends.CaptureBackend"


@pytest.fixture
def staff(member_factory):
    staff = member_factory(full_name="Sam Staff")
    staff.user.is_staff = True
    staff.user.save()
    return staff


@pytest.fixture
def captured_html_mail(db):
    message = EmailMultiAlternatives(
        subject="Welcome to HealTalk", body="Plain words.", from_email="no-reply@lists.example.org",
        to=["dana@cascade.example.org"],
    )
    message.attach_alternative("<p>Rich words</p><script>alert('hi')</script>", "text/html")
    message.send()
    return CapturedEmail.objects.get()


def test_capture_backend_stores_each_message_instead_of_sending_it(captured_html_mail):
    assert captured_html_mail.subject == "Welcome to HealTalk"
    assert captured_html_mail.sender == "no-reply@lists.example.org"
    assert captured_html_mail.recipients == "dana@cascade.example.org"
    assert "Plain words." in captured_html_mail.raw
    assert "multipart/alternative" in captured_html_mail.raw


def test_capture_backend_shows_the_from_header_of_list_mail(member, member_factory, thread, reply_factory):
    reply_factory(author=member_factory(full_name="Eve Each"), parent=thread.posts.get(), body="Captured.")

    captured = CapturedEmail.objects.get(recipients=member.email)

    assert captured.sender == "Eve Each via HealTorture-Talk <talk@lists.example.org>"  # not the bounce address


def test_mailbox_lists_captured_mail_for_staff(client, staff, captured_html_mail):
    client.force_login(staff.user)

    response = client.get(reverse("dev_mailbox"))

    assert response.status_code == 200
    assert b"Welcome to HealTalk" in response.content
    assert b"dana@cascade.example.org" in response.content
    assert reverse("dev_mail_detail", args=[captured_html_mail.id]).encode() in response.content


def test_mail_detail_shows_headers_and_bodies_without_running_scripts(client, moderator, captured_html_mail):
    client.force_login(moderator.user)

    response = client.get(reverse("dev_mail_detail", args=[captured_html_mail.id]))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Subject</th><td>Welcome to HealTalk" in page
    assert "Plain words." in page
    assert '<iframe sandbox srcdoc="&lt;p&gt;Rich words&lt;/p&gt;&lt;script&gt;' in page
    assert "<script>alert" not in page


@pytest.mark.parametrize("url_name", ["dev_mailbox", "dev_mail_detail"])
def test_mailbox_is_not_found_for_a_member_who_is_neither_staff_nor_moderator(url_name, client, member,
                                                                              captured_html_mail):
    client.force_login(member.user)
    args = [captured_html_mail.id] if url_name == "dev_mail_detail" else []

    response = client.get(reverse(url_name, args=args))

    assert response.status_code == 404


def test_reply_is_not_accepted_from_a_member_who_is_neither_staff_nor_moderator(client, member,
                                                                                captured_html_mail):
    client.force_login(member.user)

    response = client.post(reverse("dev_mail_reply", args=[captured_html_mail.id]), {"body": "Hello"})

    assert response.status_code == 404
    assert not InboundMessage.objects.exists()


def test_reply_as_recipient_posts_under_the_message_replied_to(client, staff, thread, member_factory,
                                                              reply_factory, django_capture_on_commit_callbacks):
    recipient = member_factory(full_name="Rosa Alvarez")
    author = member_factory(full_name="Mo Author")
    answered = reply_factory(author=author, parent=thread.posts.get(), body="We start with a welcome circle.")
    list_mail = CapturedEmail.objects.get(recipients=recipient.email, raw__contains=answered.message_id)
    client.force_login(staff.user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("dev_mail_reply", args=[list_mail.id]),
                               {"body": "Thank you, we will try it next month."})

    assert response.status_code == 302
    assert response.url == reverse("dev_mail_detail", args=[list_mail.id])
    [post] = Post.objects.filter(parent=answered)
    assert (post.author, post.source) == (recipient, Post.Source.EMAIL)
    assert post.body == "Thank you, we will try it next month."
    stored = InboundMessage.objects.get()
    assert stored.status == InboundMessage.Status.POSTED
    assert f"In-Reply-To: {answered.message_id}" in stored.raw
    assert "> We start with a welcome circle." in stored.raw
