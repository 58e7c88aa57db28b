import re
from datetime import datetime, time, timedelta
from email.utils import getaddresses
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils import timezone
from django.utils.formats import date_format

from community.models import Member, User
from mailer import selectors
from mailer.digests import SETTLING, send_due_digests
from mailer.models import DigestLog, MailPreference, OutboundMessage
from mailer.tokens import parse_bounce_address, parse_reply_address
from threads.models import Category, EConsultation, Post, Resource, ResourceTopic, Subscription, Webinar

REFUSING = "tests.mailer.test_outbound.RefusingBackend"
Mode, Kind, Level = MailPreference.Mode, DigestLog.Kind, Subscription.Level


def local_time(days_from_today, hour, minute=0, zone=None):
    zone = zone or timezone.get_current_timezone()
    day = timezone.localdate() + timedelta(days=days_from_today)
    return datetime.combine(day, time(hour, minute), tzinfo=zone)


MORNING = local_time(1, 9)  # tomorrow, after the digest hour
COVERED = MORNING - SETTLING  # where a digest sent at MORNING stops


def backdate(post, when):
    Post.objects.filter(pk=post.pk).update(created_at=when)


def generation_of(member_id):
    return MailPreference.objects.get(member_id=member_id).token_generation


def reply_targets(text):
    addresses = re.findall(rf"reply-[a-z0-9-]+@{re.escape(settings.LIST_DOMAIN)}", text)
    return {(target.post_id, target.member_id) for target in
            (parse_reply_address(address, generation_of) for address in addresses)}


def html_of(message):
    [(html, _)] = message.alternatives
    return html


def to(mailoutbox, member):
    return [message for message in mailoutbox if message.to == [member.email]]


@pytest.fixture(autouse=True)
def _digest_times(settings):
    settings.DIGEST_HOUR = 7
    settings.DIGEST_WEEKDAY = MORNING.weekday()


@pytest.fixture
def reader(member_factory):
    """A daily-digest member whose last digest covered everything up to yesterday morning."""
    reader = member_factory(full_name="Rae Reader", mail_mode=Mode.DAILY)
    yesterday = MORNING - timedelta(days=1)
    DigestLog.objects.create(member=reader, period=yesterday.date(), covered_until=yesterday)
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
    member_factory(status=Member.Status.PENDING, mail_mode=Mode.DAILY)
    member_factory(mail_mode=Mode.NONE)
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
    html = html_of(message)
    assert "We start with <em>tea</em>." in html
    assert reply_targets(html) == reply_targets(text)
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Auto-Submitted" not in message.extra_headers
    log = DigestLog.objects.get(member=reader, kind=Kind.DAILY, period=MORNING.date())
    assert (log.covered_until, log.post_count) == (COVERED, 3)


def test_send_due_digests_envelope_sender_names_the_member(reader, news, mailoutbox):
    mailoutbox.clear()

    send_due_digests(now=MORNING)

    [message] = mailoutbox
    assert parse_bounce_address(message.from_email, generation_of) == reader.id
    [(name, address)] = getaddresses([message.extra_headers["From"]])
    assert (name, address) == ("HealTorture-Talk", settings.LIST_ADDRESS)
    assert message.extra_headers["List-Help"] == "<http://testserver/mail/help/>"
    assert "http://testserver/mail/settings/" in message.body


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


def test_send_due_digests_post_dated_just_before_the_run_waits_for_the_next(reader, thread_factory, mailoutbox):
    """A post dated a moment before a run may commit after it: the digest stops short of it, the next one has it."""
    late = thread_factory(title="Still being written", body="Committed after the run read the posts.").posts.get()
    backdate(late, MORNING - SETTLING / 2)
    mailoutbox.clear()

    send_due_digests(now=MORNING)
    assert mailoutbox == []

    send_due_digests(now=MORNING + timedelta(days=1))
    [message] = mailoutbox
    assert "Committed after the run read the posts." in message.body


def test_send_due_digests_nothing_new_sends_no_email_but_logs_the_day(reader, mailoutbox):
    send_due_digests(now=MORNING)

    assert mailoutbox == []
    log = DigestLog.objects.get(member=reader, period=MORNING.date())
    assert (log.covered_until, log.post_count) == (COVERED, 0)


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
    seen_by_second_run = list(selectors.due_digest_members(Kind.DAILY, {"": MORNING.date()}))
    send_due_digests(now=MORNING)
    mailoutbox.clear()
    monkeypatch.setattr(selectors, "due_digest_members",
                        lambda kind, periods: seen_by_second_run if kind == Kind.DAILY else [])

    assert send_due_digests(now=MORNING + timedelta(seconds=1)) == 0

    assert mailoutbox == []
    assert DigestLog.objects.get(member=reader, period=MORNING.date()).post_count == 3


# --- Weekly digests and time zones ---------------------------------------------------------------------------------

@pytest.fixture
def weekly_reader(member_factory):
    """On the weekly digest; their last one went out a week before MORNING."""
    weekly = member_factory(full_name="Wes Weekly", mail_mode=Mode.WEEKLY)
    last_week = MORNING - timedelta(days=7)
    DigestLog.objects.create(member=weekly, kind=Kind.WEEKLY, period=last_week.date(),
                             covered_until=last_week - SETTLING)
    return weekly


def test_send_due_digests_weekly_on_its_day_with_the_whole_week(weekly_reader, reader, thread_factory, mailoutbox):
    early = thread_factory(title="Monday's question", body="Asked early in the week.").posts.get()
    late = thread_factory(title="Friday's question", body="Asked late in the week.").posts.get()
    backdate(early, MORNING - timedelta(days=6))
    backdate(late, MORNING - timedelta(hours=2))
    mailoutbox.clear()

    send_due_digests(now=MORNING)

    [message] = to(mailoutbox, weekly_reader)
    assert message.subject.startswith("[HealTorture-Talk] Weekly digest, week of ")
    assert message.subject.endswith(": 2 new messages")
    assert "Asked early in the week." in message.body and "Asked late in the week." in message.body
    [daily] = to(mailoutbox, reader)
    assert daily.subject.startswith("[HealTorture-Talk] Daily digest") and "Asked early" not in daily.body
    assert DigestLog.objects.get(member=weekly_reader, kind=Kind.WEEKLY, period=MORNING.date()).post_count == 2


def test_send_due_digests_weekly_waits_for_its_day(weekly_reader, thread_factory, mailoutbox, settings):
    settings.DIGEST_WEEKDAY = (MORNING.weekday() + 1) % 7
    last_day = MORNING - timedelta(days=6)  # this setting's latest weekly day, already sent
    DigestLog.objects.create(member=weekly_reader, kind=Kind.WEEKLY, period=last_day.date(),
                             covered_until=last_day - SETTLING)
    backdate(thread_factory(title="Midweek").posts.get(), MORNING - timedelta(hours=2))
    mailoutbox.clear()

    send_due_digests(now=MORNING)

    assert to(mailoutbox, weekly_reader) == []

    send_due_digests(now=MORNING + timedelta(days=1))

    [message] = to(mailoutbox, weekly_reader)
    assert "Weekly digest" in message.subject


def test_send_due_digests_weekly_missed_on_its_day_goes_out_at_the_next_run(weekly_reader, thread_factory,
                                                                            mailoutbox):
    backdate(thread_factory(title="While the server was down").posts.get(), MORNING - timedelta(hours=2))
    mailoutbox.clear()

    send_due_digests(now=MORNING + timedelta(days=2))  # no run on the day itself

    [message] = to(mailoutbox, weekly_reader)
    assert "While the server was down" in message.body
    assert DigestLog.objects.filter(member=weekly_reader, kind=Kind.WEEKLY, period=MORNING.date()).exists()

    send_due_digests(now=MORNING + timedelta(days=3))
    assert len(to(mailoutbox, weekly_reader)) == 1


def test_send_due_digests_follow_each_members_time_zone(member_factory, thread_factory, mailoutbox):
    tokyo_zone = ZoneInfo("Asia/Tokyo")
    tokyo = member_factory(full_name="Tomo Tokyo", mail_mode=Mode.DAILY)
    new_york = member_factory(full_name="Nora York", mail_mode=Mode.DAILY)
    Member.objects.filter(pk=tokyo.pk).update(time_zone="Asia/Tokyo")
    night = local_time(1, 3)  # 03:00 in New York is 16:00 or 17:00 in Tokyo: only Tokyo's digest is due
    post = thread_factory(title="Overnight", body="Posted while New York slept.").posts.get()
    backdate(post, night - timedelta(hours=3))
    mailoutbox.clear()

    send_due_digests(now=night)

    [message] = mailoutbox
    assert message.to == [tokyo.email]
    tokyo_day = timezone.localdate(night, tokyo_zone)
    assert date_format(tokyo_day, "l j F") in message.subject
    assert date_format(timezone.localtime(night - timedelta(hours=3), tokyo_zone), "D j M, g:i a") in message.body
    assert DigestLog.objects.get(member=tokyo).period == tokyo_day

    send_due_digests(now=local_time(1, 7, 30))

    assert [message.to for message in mailoutbox][1:] == [[new_york.email]]


# --- What goes in: the member's choices for categories and threads -----------------------------------------------

def test_send_due_digests_daily_member_with_a_weekly_category_gets_it_weekly(member_factory, thread_factory,
                                                                             program_management, mailoutbox):
    mixed = member_factory(full_name="Mia Mixed", mail_mode=Mode.DAILY)
    Subscription.objects.create(member=mixed, category=program_management, level=Level.WEEKLY)
    for days in range(7, 0, -1):  # a week of daily digests before MORNING, the weekly one a week before
        day = MORNING - timedelta(days=days)
        DigestLog.objects.create(member=mixed, kind=Kind.DAILY, period=day.date(), covered_until=day - SETTLING)
    DigestLog.objects.create(member=mixed, kind=Kind.WEEKLY, period=(MORNING - timedelta(days=7)).date(),
                             covered_until=MORNING - timedelta(days=7) - SETTLING)
    budget = thread_factory(title="Budget", body="Budget talk from Tuesday.", cat=program_management).posts.get()
    clinical = thread_factory(title="Sleep", body="Clinical talk from this morning.").posts.get()
    backdate(budget, MORNING - timedelta(days=5))
    backdate(clinical, MORNING - timedelta(hours=2))
    mailoutbox.clear()

    send_due_digests(now=MORNING)

    daily, weekly = sorted(to(mailoutbox, mixed), key=lambda message: message.subject)
    assert "Daily digest" in daily.subject and "Weekly digest" in weekly.subject
    assert "Clinical talk from this morning." in daily.body and "Budget talk" not in daily.body
    assert "Budget talk from Tuesday." in weekly.body and "Clinical talk" not in weekly.body


def test_send_due_digests_switch_from_daily_to_weekly_repeats_and_skips_nothing(reader, thread_factory, mailoutbox):
    before = thread_factory(title="Before the switch", body="Was in the last daily.").posts.get()
    after = thread_factory(title="After the switch", body="New since the last daily.").posts.get()
    backdate(before, MORNING - timedelta(days=1, hours=2))
    backdate(after, MORNING - timedelta(hours=2))
    MailPreference.objects.filter(member=reader).update(mode=Mode.WEEKLY)
    # An old weekly digest from before the member went daily must not pull in what the dailies carried since.
    DigestLog.objects.create(member=reader, kind=Kind.WEEKLY, period=(MORNING - timedelta(days=28)).date(),
                             covered_until=MORNING - timedelta(days=28))
    mailoutbox.clear()

    send_due_digests(now=MORNING)

    [message] = mailoutbox
    assert "Weekly digest" in message.subject
    assert "New since the last daily." in message.body
    assert "Was in the last daily." not in message.body


@pytest.mark.parametrize(("mode", "level", "kind"), [
    (Mode.WEEKLY, Level.DAILY, "Daily"),   # a thread set to daily beats the weekly mode
    (Mode.EACH, Level.WEEKLY, "Weekly"),
    (Mode.NONE, Level.DAILY, "Daily"),     # a choice made for one thread holds even with no email otherwise
])
def test_send_due_digests_thread_choice_beats_the_mail_mode(mode, level, kind, member_factory, thread, mailoutbox):
    chooser = member_factory(mail_mode=mode)
    Subscription.objects.create(member=chooser, thread=thread, level=level)
    backdate(thread.posts.get(), MORNING - timedelta(hours=2))
    mailoutbox.clear()

    send_due_digests(now=MORNING)

    [message] = to(mailoutbox, chooser)
    assert f"{kind} digest" in message.subject
    assert "How do you start a group?" in message.body


def test_send_due_digests_leave_out_mine_paused_and_already_emailed(member, member_factory, thread, reply_factory,
                                                                    mailoutbox):
    mine = member_factory(mail_mode=Mode.MINE)
    paused = member_factory(mail_mode=Mode.DAILY)
    MailPreference.objects.filter(member=paused).update(delivery_paused_at=timezone.now())
    switched = member_factory(mail_mode=Mode.EACH)  # gets the reply one by one, then switches to daily
    reply = reply_factory(author=member, parent=thread.posts.get(), body="Sent to each-message members.")
    MailPreference.objects.filter(member=switched).update(mode=Mode.DAILY)
    assert OutboundMessage.objects.filter(member=switched, post=reply, status=OutboundMessage.Status.SENT).exists()
    for post in thread.posts.all():
        backdate(post, MORNING - timedelta(hours=2))
    mailoutbox.clear()

    send_due_digests(now=MORNING)

    assert to(mailoutbox, mine) == [] and to(mailoutbox, paused) == []
    [message] = to(mailoutbox, switched)
    assert "How do you start a group?" in message.body
    assert "Sent to each-message members." not in message.body


def test_send_due_digests_leave_out_announcements(member_factory, moderator, reader, mailoutbox,
                                                  django_capture_on_commit_callbacks):
    from threads.services import create_thread

    announcements = Category.objects.create(name="Announcements", moderators_only=True)
    with django_capture_on_commit_callbacks(execute=True):
        thread = create_thread(author=moderator, category=announcements, title="Site news", body="New webinar series.")
    backdate(thread.posts.get(), MORNING - timedelta(hours=2))
    assert any(message.to == [reader.email] for message in mailoutbox)  # sent at once
    mailoutbox.clear()

    send_due_digests(now=MORNING)

    assert to(mailoutbox, reader) == []


# --- The calendar and long digests ---------------------------------------------------------------------------------

def test_send_due_digests_calendar_on_top_in_the_members_time_zone(reader, news, moderator, mailoutbox):
    Member.objects.filter(pk=reader.pk).update(time_zone="America/Los_Angeles")
    reader.refresh_from_db()
    webinar = Webinar.objects.create(title="Trauma-informed sleep care", starts_at=MORNING + timedelta(days=3),
                                     time_zone="America/New_York")
    consult = Webinar.objects.create(title="Interpreters in therapy", starts_at=MORNING - timedelta(days=6))
    consult_thread = Post.objects.get(pk=news["budget"].pk).thread
    EConsultation.objects.create(webinar=consult, thread=consult_thread, live_starts_at=MORNING + timedelta(days=1),
                                 live_ends_at=MORNING + timedelta(days=1, hours=1))
    Webinar.objects.create(title="Long past", starts_at=MORNING - timedelta(days=40))
    mailoutbox.clear()

    send_due_digests(now=MORNING.astimezone(ZoneInfo("America/Los_Angeles")).replace(hour=9))

    [message] = mailoutbox
    text = message.body
    assert text.index("Coming up:") < text.index("=== Clinical questions ===")
    pacific = timezone.localtime(webinar.starts_at, ZoneInfo("America/Los_Angeles"))
    assert f"Webinar: Trauma-informed sleep care — {pacific:%a %-d %b}, {pacific:%-I:%M} a.m. P" in text
    assert f"http://testserver/events/{webinar.id}/" in text
    assert "E-consultation: Interpreters in therapy — live " in text
    assert "Long past" not in text
    html = html_of(message)
    assert html.index("Coming up") < html.index("Clinical questions")


def test_send_due_digests_big_day_stays_under_gmails_clipping(reader, member, member_factory, thread_factory,
                                                             reply_factory, program_management, mailoutbox):
    body = "A long, careful answer about group work. " * 60
    for n in range(12):
        opening = thread_factory(title=f"Busy thread {n}", body=body, cat=program_management if n % 2 else None)
        posts = [opening.posts.get()]
        for _ in range(9):
            posts.append(Post.objects.create(thread=opening, parent=posts[0], author=member, body=body,
                                             html=f"<p>{body}</p>", message_id=f"<{opening.id}.{len(posts)}@t>"))
        for post in posts:
            backdate(post, MORNING - timedelta(hours=2))
    mailoutbox.clear()

    send_due_digests(now=MORNING)

    [message] = mailoutbox
    html = html_of(message)
    assert len(html.encode()) < 100_000
    assert message.subject.endswith(": 120 new messages")
    assert re.search(r"\d+ more messages in this thread", html)
    assert re.search(r"\d+ more messages in this thread: http://testserver/threads/\d+/", message.body)
    assert "A long, careful answer about group work." in html
    assert body not in html  # shown as excerpts
    shown = reply_targets(html)
    assert shown and shown == reply_targets(message.body)  # every message shown keeps its own reply address


def test_send_due_digests_ordinary_day_shows_messages_in_full(reader, news, mailoutbox):
    mailoutbox.clear()

    send_due_digests(now=MORNING)

    [message] = mailoutbox
    assert "more message" not in message.body and "shortened" not in message.body


# --- In bulk -------------------------------------------------------------------------------------------------------

def make_members(count, organization, start, mode):
    users = User.objects.bulk_create(
        [User(email=f"reader{n}@cascade.example.org", password="!") for n in range(start, start + count)]
    )
    members = Member.objects.bulk_create([
        Member(user=user, full_name=f"Reader {n}", organization=organization, status=Member.Status.ACTIVE)
        for n, user in enumerate(users)
    ])
    MailPreference.objects.bulk_create([MailPreference(member=member, mode=mode) for member in members])
    return members


# Time zones; daily members due; who gets which post, the posts, their attachments; the claim (savepoint, insert,
# release); the calendar; the record; weekly members due (none): within the budget of 12. A weekly
# digest reads the period's new resources with their topics too, once per batch, and daily members due are none.
@pytest.mark.parametrize(("mode", "period", "queries"), [(Mode.DAILY, timedelta(days=1), 11),
                                                         (Mode.WEEKLY, timedelta(days=7), 12)])
def test_send_due_digests_query_count_is_constant(mode, period, queries, organization, member, thread_factory,
                                                  reply_factory, program_management, mailoutbox,
                                                  django_assert_num_queries):
    def news_until(step, now):
        group = thread_factory(title=f"Group work {step}").posts.get()
        posts = [group, reply_factory(author=member, parent=group),
                 thread_factory(title=f"Budget season {step}", cat=program_management).posts.get()]
        for post in posts:
            backdate(post, now - timedelta(hours=1))
        for n in range(step + 1):  # in the library, with topics; the daily digest leaves them out
            resource = Resource.objects.create(title=f"Handout {step}.{n}", description="One page.",
                                               description_html="<p>One page.</p>", submitted_by=member,
                                               status=Resource.Status.APPROVED, approved_at=now - timedelta(hours=2))
            resource.topics.set(ResourceTopic.objects.filter(slug__in=["social", "interpreters"]))

    for step, members in enumerate([3, 30]):
        now = MORNING + step * period
        make_members(members - (3 if step else 0), organization, start=step * 100, mode=mode)
        news_until(step, now)
        mailoutbox.clear()
        with django_assert_num_queries(queries):
            send_due_digests(now=now)
        assert len(mailoutbox) == members
        news = ": 3 new messages" if mode == Mode.DAILY else f": 3 new messages, {step + 1} new resource{'s' * step}"
        assert all(message.subject.endswith(news) for message in mailoutbox)
