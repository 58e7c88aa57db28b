import pytest
from django.utils import timezone

from community.models import Member
from mailer.models import MailPreference
from threads.mentions import announce_mentions, handle_for, render_post
from threads.models import Mention
from threads.posts import edit_post


def mention_mails(mailoutbox, member):
    return [message for message in mailoutbox if message.to == [member.email] and "mentioned you" in message.subject]


def test_handle_for_folds_accents_and_joins_words():
    assert handle_for("José María Núñez-Ortiz") == "jose.maria.nunez.ortiz"
    assert handle_for("  Dana  Member ") == "dana.member"


def test_render_post_links_mentions_of_active_members_only(member_factory):
    jose = member_factory(full_name="José Núñez")
    member_factory(full_name="Sam Gone", status=Member.Status.SUSPENDED)

    html, mentioned = render_post(
        "Thanks @jose.nunez! Ask @sam.gone or write to jose@example.org; `@jose.nunez` in code."
    )

    assert f'<a href="/members/{jose.id}/" rel="nofollow noopener">@jose.nunez</a>!' in html
    assert html.count("/members/") == 1  # the suspended member's handle stays plain text
    assert "jose@example.org" in html
    assert "<code>@jose.nunez</code>" in html
    assert mentioned == {jose.id}


def test_render_post_ambiguous_handle_needs_the_member_number(member_factory):
    first = member_factory(full_name="Lee Park")
    second = member_factory(full_name="Lee  Park")

    html, mentioned = render_post(f"@lee.park and @lee.park.{second.id}")

    assert mentioned == {second.id}
    assert f'<a href="/members/{first.id}/"' not in html


@pytest.fixture
def daily_reader(member_factory):
    return member_factory(full_name="Rita Reader", mail_mode=MailPreference.Mode.DAILY)


def test_mention_emails_the_mentioned_member(member, thread, daily_reader, reply_factory, mailoutbox):
    reply = reply_factory(author=member, parent=thread.posts.get(), body="@rita.reader what do you think?")

    [notice] = mention_mails(mailoutbox, daily_reader)
    assert notice.subject == f"Dana Member mentioned you in “{thread.title}”"
    assert "@rita.reader what do you think?" in notice.body
    assert f"/posts/{reply.id}/" in notice.body


def test_mention_skips_members_who_get_the_post_anyway_and_the_author(member, member_factory, thread,
                                                                      reply_factory, mailoutbox):
    each = member_factory(full_name="Eve Each", mail_mode=MailPreference.Mode.EACH)

    reply_factory(author=member, parent=thread.posts.get(), body="@eve.each and @dana.member")

    assert mention_mails(mailoutbox, each) == []
    assert mention_mails(mailoutbox, member) == []
    assert any(message.to == [each.email] for message in mailoutbox)  # the post itself


def test_edit_post_notifies_only_newly_mentioned(member, member_factory, thread, daily_reader, mailoutbox,
                                                 django_capture_on_commit_callbacks):
    other = member_factory(full_name="Omar Other", mail_mode=MailPreference.Mode.DAILY)
    post = thread.posts.get()
    with django_capture_on_commit_callbacks(execute=True):
        edit_post(editor=member, post_id=post.id, body="Asking @rita.reader")
    with django_capture_on_commit_callbacks(execute=True):
        edit_post(editor=member, post_id=post.id, body="Asking @rita.reader and @omar.other")

    assert len(mention_mails(mailoutbox, daily_reader)) == 1
    assert len(mention_mails(mailoutbox, other)) == 1


def test_announce_mentions_stores_each_mention_once(member, thread, daily_reader, django_capture_on_commit_callbacks):
    post = thread.posts.get()
    with django_capture_on_commit_callbacks(execute=True):
        edit_post(editor=member, post_id=post.id, body="Asking @rita.reader and myself, @dana.member")

    announce_mentions(post, {daily_reader.id})  # approving a held post announces its mentions again

    assert list(Mention.objects.filter(post=post).values_list("member_id", flat=True)) == [daily_reader.id]


@pytest.mark.parametrize("reason", ["no email", "paused"])
def test_mention_not_sent_to_member_without_list_mail(reason, member, member_factory, thread, reply_factory,
                                                       mailoutbox):
    quiet = member_factory(full_name="Quinn Quiet", mail_mode=MailPreference.Mode.DAILY)
    if reason == "no email":
        MailPreference.objects.filter(member=quiet).update(mode=MailPreference.Mode.NONE)
    else:
        MailPreference.objects.filter(member=quiet).update(delivery_paused_at=timezone.now())

    reply_factory(author=member, parent=thread.posts.get(), body="@quinn.quiet have a look")

    assert mention_mails(mailoutbox, quiet) == []


def test_mention_makes_an_only_my_threads_member_get_the_thread(member, member_factory, thread, reply_factory,
                                                                mailoutbox):
    mine = member_factory(full_name="Mina Mine", mail_mode=MailPreference.Mode.MINE)
    root = thread.posts.get()
    reply_factory(author=member, parent=root, body="Nobody named yet.")
    reply_factory(author=member, parent=root, body="@mina.mine you will know this.")
    reply_factory(author=member, parent=root, body="And a follow-up.")

    bodies = [message.body for message in mailoutbox if message.to == [mine.email]]
    assert len(bodies) == 2  # the post naming them (not as a mention notice) and what follows
    assert "@mina.mine you will know this." in bodies[0] and "And a follow-up." in bodies[1]
    assert mention_mails(mailoutbox, mine) == []
