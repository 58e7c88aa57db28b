from datetime import timedelta

import pytest
from django.utils import timezone

from mailer import outbound, selectors
from mailer.digests import send_due_digests
from mailer.models import MailPreference, OutboundMessage
from tests.conftest import login
from threads.models import Post, Subscription
from threads.moderation import hide_post
from threads.reading import set_subscription
from threads.services import create_reply

Mode = MailPreference.Mode
WATCH, MUTE = Subscription.Level.WATCH, Subscription.Level.MUTE


def recipients(mailoutbox):
    return sorted(address for message in mailoutbox for address in message.to)


def test_each_message_recipient_ids_follow_watch_and_mute(member_factory, thread, opening_post, other_category):
    each, each_muting_thread, each_muting_category = (member_factory(mail_mode=Mode.EACH) for _ in range(3))
    daily, daily_watching_thread, daily_watching_category = (member_factory(mail_mode=Mode.DAILY) for _ in range(3))
    none_watching = member_factory(mail_mode=Mode.NONE)
    muted_category_watched_thread = member_factory(mail_mode=Mode.DAILY)
    watching_elsewhere = member_factory(mail_mode=Mode.DAILY)
    set_subscription(each_muting_thread, level=MUTE, thread=thread)
    set_subscription(each_muting_category, level=MUTE, category=thread.category)
    set_subscription(daily_watching_thread, level=WATCH, thread=thread)
    set_subscription(daily_watching_category, level=WATCH, category=thread.category)
    set_subscription(none_watching, level=WATCH, thread=thread)
    set_subscription(muted_category_watched_thread, level=MUTE, category=thread.category)
    set_subscription(muted_category_watched_thread, level=WATCH, thread=thread)
    set_subscription(watching_elsewhere, level=WATCH, category=other_category)

    ids = set(selectors.each_message_recipient_ids(opening_post))

    assert each.id in ids and daily.id not in ids
    # A choice for the thread or its category comes before the member's mode, "no email" included.
    assert {daily_watching_thread.id, daily_watching_category.id, muted_category_watched_thread.id,
            none_watching.id} <= ids
    assert not {each_muting_thread.id, each_muting_category.id, watching_elsewhere.id} & ids
    assert opening_post.author_id not in ids


def test_each_message_recipient_ids_query_count_is_constant(member_factory, opening_post, django_assert_num_queries):
    for _ in range(5):
        set_subscription(member_factory(mail_mode=Mode.DAILY), level=WATCH, thread=opening_post.thread)

    with django_assert_num_queries(1):
        assert len(selectors.each_message_recipient_ids(opening_post)) == 5


def test_create_reply_emails_digest_member_watching_thread(member, member_factory, thread, opening_post, mailoutbox,
                                                           django_capture_on_commit_callbacks):
    watcher = member_factory(mail_mode=Mode.DAILY)
    member_factory(mail_mode=Mode.DAILY)
    set_subscription(watcher, level=WATCH, thread=thread)
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        create_reply(author=member, parent=opening_post, body="Tea first.")

    assert recipients(mailoutbox) == [watcher.email]


def test_create_reply_sends_nothing_to_member_muting_category(member, member_factory, thread, opening_post, mailoutbox,
                                                              django_capture_on_commit_callbacks):
    muter = member_factory(mail_mode=Mode.EACH)
    each = member_factory(mail_mode=Mode.EACH)
    set_subscription(muter, level=MUTE, category=thread.category)
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        create_reply(author=member, parent=opening_post, body="Tea first.")

    assert recipients(mailoutbox) == [each.email]


def test_deliver_outbound_skips_member_who_muted_after_fan_out(
    member, member_factory, thread, opening_post, mailoutbox
):
    muter = member_factory(mail_mode=Mode.EACH)
    reply = create_reply(author=member, parent=opening_post, body="Tea first.")
    OutboundMessage.objects.create(post=reply, member=muter)
    set_subscription(muter, level=MUTE, thread=thread)
    mailoutbox.clear()

    outbound.deliver_outbound(OutboundMessage.objects.get(post=reply, member=muter).id)

    assert mailoutbox == []
    assert OutboundMessage.objects.get(post=reply, member=muter).status == OutboundMessage.Status.SKIPPED


def test_deliver_outbound_skips_post_hidden_after_fan_out(member, member_factory, moderator, opening_post, mailoutbox):
    reader = member_factory(mail_mode=Mode.EACH)
    reply = create_reply(author=member, parent=opening_post, body="Something to review.")
    row = OutboundMessage.objects.create(post=reply, member=reader)
    hide_post(reply, moderator, "Names a client.")
    mailoutbox.clear()

    outbound.deliver_outbound(row.id)

    assert mailoutbox == []
    assert OutboundMessage.objects.get(pk=row.pk).status == OutboundMessage.Status.SKIPPED


@pytest.fixture
def digest_news(member, member_factory, thread_factory, reply_factory, other_category):
    """A daily reader and three new threads, each in a different relation to the reader's choices."""
    reader = member_factory(mail_mode=Mode.DAILY, full_name="Rae Reader")
    muted = thread_factory(title="Muted thread")
    watched = thread_factory(title="Watched thread")
    thread_factory(title="In a muted category", cat=other_category)
    plain = thread_factory(title="Plain thread")
    hidden = reply_factory(author=member, parent=plain.posts.get(), body="Waiting for review.")
    set_subscription(reader, level=MUTE, thread=muted)
    set_subscription(reader, level=WATCH, thread=watched)
    set_subscription(reader, level=MUTE, category=other_category)
    Post.objects.filter(pk=hidden.pk).update(hidden_at=timezone.now())
    return reader


def test_send_due_digests_leaves_out_watched_muted_and_hidden_posts(digest_news, mailoutbox, settings):
    settings.DIGEST_HOUR = 0
    mailoutbox.clear()

    # Digests cover posts up to a few minutes before they run (mailer.digests.SETTLING).
    send_due_digests(now=timezone.now() + timedelta(minutes=30))

    [message] = [message for message in mailoutbox if message.to == [digest_news.email]]
    assert "Plain thread" in message.body
    assert "Muted thread" not in message.body
    assert "Watched thread" not in message.body  # already emailed as it was posted
    assert "In a muted category" not in message.body
    assert "Waiting for review." not in message.body


def radio(level, checked=False):
    return f'type="radio" name="level" value="{level}"' + (" checked" if checked else "")


def test_thread_subscription_choices_daily_then_back_to_my_setting(client, member, thread):
    login(client, member)

    page = client.get(thread.get_absolute_url()).content.decode()

    assert f'action="/threads/{thread.id}/subscription/"' in page
    assert "Email for this thread: <strong>as in your email settings</strong>" in page
    for level in ["watch", "daily", "weekly", "mute"]:
        assert radio(level) in page
    assert radio("", checked=True) in page
    assert radio("mine") not in page  # "only threads I take part in" means nothing for one thread

    response = client.post(f"/threads/{thread.id}/subscription/", {"level": "daily"})

    assert response.status_code == 302
    assert Subscription.objects.get(member=member, thread=thread).level == Subscription.Level.DAILY
    page = client.get(thread.get_absolute_url()).content.decode()
    assert "Email for this thread: <strong>in your daily digest</strong>" in page
    assert radio("daily", checked=True) in page
    assert "New posts in this thread will come in your daily digest." in page

    client.post(f"/threads/{thread.id}/subscription/", {"level": ""})

    assert not Subscription.objects.filter(member=member).exists()


def test_thread_subscription_refuses_only_my_threads_and_unknown_levels(client, member, thread):
    login(client, member)
    set_subscription(member, level=WATCH, thread=thread)

    for level in ["mine", "sometimes"]:
        response = client.post(f"/threads/{thread.id}/subscription/", {"level": level}, follow=True)

        assert "Choose one of the email options offered." in response.content.decode()
        assert Subscription.objects.get(member=member, thread=thread).level == WATCH


def test_set_subscription_only_my_threads_is_for_categories(member, thread):
    with pytest.raises(ValueError):
        set_subscription(member, level=Subscription.Level.MINE, thread=thread)

    set_subscription(member, level=Subscription.Level.MINE, category=thread.category)

    assert Subscription.objects.get(member=member).level == Subscription.Level.MINE


def test_category_subscription_weekly_and_only_my_threads(client, member, category, thread):
    login(client, member)

    assert radio("mine") in client.get(category.get_absolute_url()).content.decode()

    response = client.post(f"/c/{category.slug}/subscription/", {"level": "weekly"})

    assert response["Location"] == category.get_absolute_url()
    assert Subscription.objects.get(member=member, category=category).level == Subscription.Level.WEEKLY
    assert "as for its category — in your weekly digest" in client.get(thread.get_absolute_url()).content.decode()

    client.post(f"/c/{category.slug}/subscription/", {"level": "mine"})

    page = client.get(category.get_absolute_url()).content.decode()
    assert "Email for this category: <strong>only threads you take part in</strong>" in page
    assert radio("mine", checked=True) in page


def test_category_subscription_mutes_category(client, member, category, thread):
    login(client, member)

    client.post(f"/c/{category.slug}/subscription/", {"level": "mute"})

    assert Subscription.objects.get(member=member, category=category).level == MUTE
    assert radio("mute", checked=True) in client.get(category.get_absolute_url()).content.decode()
    page = client.get(thread.get_absolute_url()).content.decode()
    assert "as for its category — no email" in page
    assert "Same as its category" in page
