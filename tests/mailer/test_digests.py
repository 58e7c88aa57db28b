import re
from datetime import datetime, time, timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from community.models import Member, User
from mailer import selectors
from mailer.digests import send_due_digests
from mailer.models import DigestLog, MailPreference
from mailer.tokens import parse_reply_address
from threads.models import Category, Post

REFUSING = "tests.mailer.test_outbound.RefusingBackend"


def local_time(days_from_today, hour, minute=0):
    day = timezone.localdate() + timedelta(days=days_from_today)
    return datetime.combine(day, time(hour, minute), tzinfo=timezone.get_current_timezone())


MORNING = local_time(1, 9)  # tomorrow, after the digest hour


def backdate(post, when):
    Post.objects.filter(pk=post.pk).update(created_at=when)


def reply_targets(text):
    def generation_of(member_id):
        return MailPreference.objects.get(member_id=member_id).token_generation

    addresses = re.findall(rf"reply-[a-z0-9-]+@{re.escape(settings.LIST_DOMAIN)}", text)
    return {(target.post_id, target.member_id) for target in
            (parse_reply_address(address, generation_of) for address in addresses)}


@pytest.fixture(autouse=True)
def _digest_hour(settings):
    settings.DIGEST_HOUR = 7


@pytest.fixture
def reader(member_factory):
    """A daily-digest member whose last digest covered everything up to yesterday morning."""
    reader = member_factory(full_name="Rae Reader", mail_mode=MailPreference.Mode.DAILY)
    yesterday = MORNING - timedelta(days=1)
    DigestLog.objects.create(member=reader, period=timezone.localdate(yesterday), covered_until=yesterday)
    return reader


@pytest.fixture
def program_management(db):
    return Category.objects.create(name="Program management")


@pytest.fixture
def news(member, member_factory, reader, thread_factory, reply_factory, program_management):
    """What happened since the reader's last digest (and one thing from before it)."""
    old = thread_factory(title="Old news", body="Already in yesterday's digest.").posts.get()
    budget = thread_factory(title="Budget season", body="Who has a template?", cat=program_management).posts.get()
    group = thread_factory(title="Group work with new arrivals", body="How do you start a group?").posts.get()
    own = reply_factory(author=reader, parent=group, body="My own words.")
    tea = reply_factory(author=member_factory(full_name="Tom Tea"), parent=group, body="We start with *tea*.")
    backdate(old, MORNING - timedelta(days=1, hours=1))
    for hours_before, post in enumerate([tea, own, group, budget], start=1):
        backdate(post, MORNING - timedelta(hours=hours_before))
    return {"budget": budget, "group": group, "own": own, "tea": tea}


def test_send_due_digests_sends_new_posts_grouped_by_category(reader, news, member_factory, mailoutbox):
    member_factory(status=Member.Status.PENDING, mail_mode=MailPreference.Mode.DAILY)
    member_factory(mail_mode=MailPreference.Mode.NONE)
    mailoutbox.clear()

    send_due_digests(now=MORNING)

    [message] = mailoutbox
    assert message.to == [reader.email]
    assert message.subject.startswith("[HealTorture-Talk] Daily digest, ")
    assert message.subject.endswith(": 3 new messages")
    text = message.body
    assert text.startswith("Hello Rae Reader,")
    headings = ["=== Clinical questions ===", "--- Group work with new arrivals ---", "How do you start a group?",
                "We start with *tea*.", "=== Program management ===", "--- Budget season ---", "Who has a template?"]
    assert [text.index(heading) for heading in headings] == sorted(text.index(heading) for heading in headings)
    assert "My own words." not in text
    assert "Already in yesterday's digest." not in text
    assert reply_targets(text) == {(news[key].id, reader.id) for key in ("budget", "group", "tea")}
    [(html, _)] = message.alternatives
    assert "We start with <em>tea</em>." in html
    assert reply_targets(html) == reply_targets(text)
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    log = DigestLog.objects.get(member=reader, period=MORNING.date())
    assert (log.covered_until, log.post_count) == (MORNING, 3)


def test_send_due_digests_second_run_same_day_sends_nothing(reader, news, thread_factory, mailoutbox):
    send_due_digests(now=MORNING)
    later = thread_factory(title="Posted after the digest", body="Tomorrow's news.").posts.get()
    backdate(later, MORNING + timedelta(minutes=30))
    mailoutbox.clear()

    send_due_digests(now=MORNING + timedelta(hours=2))

    assert mailoutbox == []

    send_due_digests(now=MORNING + timedelta(days=1))

    [message] = mailoutbox
    assert "Tomorrow's news." in message.body
    assert "Who has a template?" not in message.body


def test_send_due_digests_nothing_new_sends_no_email_but_logs_the_day(reader, mailoutbox):
    send_due_digests(now=MORNING)

    assert mailoutbox == []
    log = DigestLog.objects.get(member=reader, period=MORNING.date())
    assert (log.covered_until, log.post_count) == (MORNING, 0)


def test_send_due_digests_waits_for_the_digest_hour(reader, news, mailoutbox):
    mailoutbox.clear()

    send_due_digests(now=MORNING.replace(hour=6, minute=59))

    assert mailoutbox == []
    assert not DigestLog.objects.filter(period=MORNING.date()).exists()


def test_send_due_digests_first_digest_is_the_default_and_covers_one_day(member, member_factory, thread_factory,
                                                                          mailoutbox):
    newcomer = member_factory(full_name="Nia New")
    MailPreference.objects.filter(member=newcomer).delete()
    stale = thread_factory(title="Last week", body="Too old for a first digest.").posts.get()
    fresh = thread_factory(title="This morning", body="Fresh enough.").posts.get()
    backdate(stale, MORNING - timedelta(hours=25))
    backdate(fresh, MORNING - timedelta(hours=1))
    mailoutbox.clear()

    send_due_digests(now=MORNING)

    [message] = mailoutbox
    assert message.to == [newcomer.email]
    assert "Fresh enough." in message.body
    assert "Too old for a first digest." not in message.body


def test_send_due_digests_failed_send_is_retried_by_the_next_run(reader, news, settings, mailoutbox):
    mailoutbox.clear()
    settings.EMAIL_BACKEND = REFUSING

    assert send_due_digests(now=MORNING) == 0

    assert not DigestLog.objects.filter(member=reader, period=MORNING.date()).exists()

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert send_due_digests(now=MORNING + timedelta(minutes=15)) == 1

    [message] = mailoutbox
    assert "Who has a template?" in message.body


def test_send_due_digests_racing_run_sends_nothing(reader, news, mailoutbox, monkeypatch):
    seen_by_second_run = list(selectors.due_digest_members(MORNING.date()))
    send_due_digests(now=MORNING)
    mailoutbox.clear()
    monkeypatch.setattr(selectors, "due_digest_members", lambda today: seen_by_second_run)

    assert send_due_digests(now=MORNING + timedelta(seconds=1)) == 0

    assert mailoutbox == []
    assert DigestLog.objects.get(member=reader, period=MORNING.date()).post_count == 3


def make_daily_members(count, organization):
    users = User.objects.bulk_create(
        [User(email=f"reader{n}@cascade.example.org", password="!") for n in range(count)]
    )
    members = Member.objects.bulk_create([
        Member(user=user, full_name=f"Reader {n}", organization=organization, status=Member.Status.ACTIVE)
        for n, user in enumerate(users)
    ])
    MailPreference.objects.bulk_create(
        [MailPreference(member=member, mode=MailPreference.Mode.DAILY) for member in members]
    )
    return members


@pytest.mark.parametrize("count", [3, 30])
def test_send_due_digests_query_count_is_constant(count, organization, member, thread_factory, reply_factory,
                                                  program_management, mailoutbox, django_assert_num_queries):
    make_daily_members(count, organization)
    group = thread_factory(title="Group work").posts.get()
    posts = [group, reply_factory(author=member, parent=group),
             thread_factory(title="Budget season", cat=program_management).posts.get()]
    for post in posts:
        backdate(post, MORNING - timedelta(hours=1))

    with django_assert_num_queries(6):  # members, posts, claim (savepoint, insert, release), record
        send_due_digests(now=MORNING)

    assert len(mailoutbox) == count
