"""The members' mail settings page (/mail/settings/) and the help page about the list (/mail/help/)."""

import re

import pytest
from django.utils import timezone

from community.models import Member
from mailer import bounces
from mailer.models import InboundMessage, MailPreference
from mailer.outbound import build_post_message
from threads.models import Category, Subscription
from threads.reading import set_subscription

from .inbound_mail import reply_address, reply_eml

Mode = MailPreference.Mode
Level = Subscription.Level


def checked_mode(page: str) -> list[str]:
    return re.findall(r'name="mode" id="mode-\w+" value="(\w+)"[^>]*checked', page)


def selected(page: str, name: str) -> str:
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', page, re.S).group(1)
    found = re.search(r'<option value="([^"]*)"[^>]*selected', select)
    return found.group(1) if found else ""


def test_mail_settings_explains_every_mode_and_marks_the_default(member_client, member, settings):
    settings.DIGEST_HOUR, settings.DIGEST_WEEKDAY = 7, 2
    Member.objects.filter(pk=member.pk).update(time_zone="America/Chicago")

    page = member_client.get("/mail/settings/").content.decode()

    assert [value for value in re.findall(r'name="mode" id="mode-\w+" value="(\w+)"', page)] == [
        "each", "daily", "weekly", "mine", "none"]
    assert checked_mode(page) == ["each"]
    daily = page[page.index('id="mode-daily"'):page.index('id="mode-weekly"')]
    assert "The default for new members" in daily
    assert "around 7 am, Central time (Chicago)" in daily
    assert "on Wednesday around 7 am" in page
    assert "@dana.member" in page  # how others mention them, for "only threads I ... am mentioned in"
    assert "Announcements and e-consultation summaries" in page
    assert 'href="/mail/help/"' in page


@pytest.mark.parametrize("hour, words", [(0, "12 am"), (7, "7 am"), (12, "12 pm"), (18, "6 pm")])
def test_mail_settings_digest_hour_in_plain_words(member_client, settings, hour, words):
    settings.DIGEST_HOUR = hour

    assert f"One email a day, around {words}," in member_client.get("/mail/settings/").content.decode()


def test_mail_settings_new_member_without_a_row_sees_the_daily_digest(member_client, member):
    MailPreference.objects.filter(member=member).delete()

    assert checked_mode(member_client.get("/mail/settings/").content.decode()) == ["daily"]


def test_mail_settings_saves_mode_time_zone_and_category_choices(member_client, member, category, other_category):
    set_subscription(member, level=Level.MUTE, category=other_category)

    response = member_client.post("/mail/settings/", {
        "mode": "weekly", "time_zone": "America/Los_Angeles",
        f"category_{category.id}": "mine", f"category_{other_category.id}": "",
    })

    assert response["Location"] == "/mail/settings/"
    assert MailPreference.objects.get(member=member).mode == Mode.WEEKLY
    assert Member.objects.get(pk=member.pk).time_zone == "America/Los_Angeles"
    assert list(Subscription.objects.filter(member=member).values_list("category", "level")) == [
        (category.id, Level.MINE)]
    page = member_client.get("/mail/settings/").content.decode()
    assert "Your email settings are saved." in page
    assert checked_mode(page) == ["weekly"]
    assert selected(page, "time_zone") == "America/Los_Angeles"
    assert selected(page, f"category_{category.id}") == "mine"


def test_mail_settings_error_keeps_what_was_typed(member_client, member, category):
    response = member_client.post("/mail/settings/", {
        "mode": "weekly", "time_zone": "Mars/Olympus_Mons", f"category_{category.id}": "mute",
    })

    assert response.status_code == 400
    page = response.content.decode()
    assert "Choose a time zone from the list." in page
    assert "Your settings are not saved yet." in page
    assert checked_mode(page) == ["weekly"]
    assert selected(page, f"category_{category.id}") == "mute"
    assert MailPreference.objects.get(member=member).mode == Mode.EACH
    assert not Subscription.objects.filter(member=member).exists()


def test_mail_settings_refuses_a_level_that_does_not_exist(member_client, member, category):
    response = member_client.post("/mail/settings/", {"mode": "sometimes", f"category_{category.id}": "loud"})

    assert response.status_code == 400
    assert "Choose one of the five ways to get list email." in response.content.decode()
    assert "Choose one of the options for this category." in response.content.decode()


def test_mail_settings_time_zones_list_the_us_first(member_client):
    page = member_client.get("/mail/settings/").content.decode()

    select = re.search(r'<select name="time_zone"[^>]*>(.*?)</select>', page, re.S).group(1)
    values = re.findall(r'<option value="([^"]*)"', select)
    assert values[:4] == ["", "America/New_York", "America/Chicago", "America/Denver"]
    assert "Pacific/Honolulu" in values[:9]
    assert {"Europe/Berlin", "Asia/Kolkata", "Africa/Nairobi"} <= set(values[9:])
    assert 'label="United States"' in select


def test_mail_settings_lists_every_readable_category(member_client, category, other_category):
    Category.objects.create(name="Announcements", moderators_only=True)

    page = member_client.get("/mail/settings/").content.decode()

    for name in ["Clinical questions", "Program management", "Announcements"]:
        assert f">{name}</label>" in page
    assert page.count('<option value="mine"') == 3


def test_mail_settings_lists_threads_set_one_by_one_and_goes_back(member_client, member, thread):
    set_subscription(member, level=Level.WATCH, thread=thread)

    page = member_client.get("/mail/settings/").content.decode()

    assert f'href="{thread.get_absolute_url()}">{thread.title}</a>' in page
    assert "— Every message" in page
    assert f'action="/mail/settings/threads/{thread.id}/"' in page

    response = member_client.post(f"/mail/settings/threads/{thread.id}/")

    assert response["Location"] == "/mail/settings/"
    assert not Subscription.objects.filter(member=member).exists()


def test_mail_settings_query_count_does_not_grow_with_choices(member_client, member, thread_factory,
                                                             django_assert_num_queries):
    for n in range(5):
        category = Category.objects.create(name=f"Area {n}")
        set_subscription(member, level=Level.DAILY, category=category)
        set_subscription(member, level=Level.MUTE, thread=thread_factory(title=f"Thread {n}", cat=category))

    # user, member, preference, categories, the member's choices
    with django_assert_num_queries(5):
        page = member_client.get("/mail/settings/").content.decode()

    assert page.count("Back to my setting<") == 5


def test_mail_settings_page_shows_a_pause_and_brings_back_a_lost_banner(member_client, member):
    # Paused in the database while the cache knew nothing of it (e.g. Redis was emptied).
    MailPreference.objects.filter(member=member).update(delivery_paused_at=timezone.now(),
                                                        delivery_pause_reason="A message was marked as spam.")

    page = member_client.get("/mail/settings/").content.decode()

    assert "List email to you is paused" in page and "A message was marked as spam." in page
    assert bounces.delivery_pause(member.id) == "A message was marked as spam."
    assert "List email to you is paused." in member_client.get("/").content.decode()


def test_every_page_links_to_the_mail_settings(member_client):
    assert '<a href="/mail/settings/">Email settings</a>' in member_client.get("/").content.decode()


@pytest.mark.parametrize("url", ["/mail/settings/", "/mail/help/"])
def test_mail_pages_need_a_member(client, url):
    assert client.get(url)["Location"] == f"/accounts/login/?next={url}"


def test_mail_help_explains_the_list_addresses(member_client, moderator, category, other_category, settings):
    settings.LIST_DOMAIN, settings.LIST_ADDRESS = "lists.example.org", "talk@lists.example.org"

    page = member_client.get("/mail/help/").content.decode()

    assert f"{category.slug}@lists.example.org" in page
    assert f"{other_category.slug}@lists.example.org" in page
    assert "talk@lists.example.org" in page
    assert "Reply to post" in page and "What a digest is" in page and "Attachments" in page
    assert f'href="/members/{moderator.id}/">Mo Derator</a>' in page
    assert 'href="/mail/settings/"' in page


def test_withdraw_links_stops_old_reply_and_unsubscribe_links(member_client, member, opening_post, deliver,
                                                              mailoutbox):
    old_message = build_post_message(opening_post.id, member)
    old_reply_address = old_message.reply_to[0]
    old_unsubscribe = re.search(r"<(http://testserver/mail/unsubscribe/[^>]+)>",
                                old_message.extra_headers["List-Unsubscribe"]).group(1)

    response = member_client.post("/mail/settings/withdraw-links/")

    assert response.status_code == 302
    assert member_client.get(old_unsubscribe).status_code == 400
    stored = deliver(reply_eml("gmail_reply.eml", opening_post, member).replace(
        reply_address(opening_post, member).encode(), old_reply_address.encode()))
    stored.refresh_from_db()
    assert stored.status == InboundMessage.Status.REJECTED
    assert "withdrawn" in stored.note
    new_reply_address = build_post_message(opening_post.id, Member.objects.get(pk=member.pk)).reply_to[0]
    assert new_reply_address != old_reply_address
