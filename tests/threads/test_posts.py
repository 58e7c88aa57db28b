import pytest
from django.utils import timezone

from community.models import AuditRecord
from mailer.digests import SETTLING, send_due_digests
from mailer.models import MailPreference, OutboundMessage
from mailer.outbound import build_post_message, deliver_outbound
from tests.conftest import login
from threads.models import Post, PostRevision
from threads.posts import PostChangeNotAllowed, delete_post, edit_post, restore_post


@pytest.fixture
def post(thread):
    return thread.posts.get()


def test_edit_post_keeps_previous_body_as_revision(member, post, client):
    edited = edit_post(editor=member, post_id=post.id, body="How do you *start* a group?")

    assert edited.html == "<p>How do you <em>start</em> a group?</p>\n"
    assert edited.edited_at is not None
    revision = PostRevision.objects.get(post=post)
    assert (revision.body, revision.edited_by) == ("How do you start a group?", member)
    assert not AuditRecord.objects.exists()  # an author editing their own post is no moderation


def test_edit_post_refused_to_another_member(member_factory, post):
    with pytest.raises(PostChangeNotAllowed):
        edit_post(editor=member_factory(), post_id=post.id, body="Not mine")

    post.refresh_from_db()
    assert post.body == "How do you start a group?"


def test_edit_post_by_moderator_is_audited(moderator, member, post):
    edit_post(editor=moderator, post_id=post.id, body="Edited for privacy.", reason="Removed a client's name")

    record = AuditRecord.objects.get()
    assert (record.actor, record.action, record.subject, record.reason) == (
        moderator, "post_edited", member, "Removed a client's name")
    assert f"Post #{post.id}" in record.target


def test_edit_page_saves_and_history_lists_versions(client, member, member_factory, post, thread):
    login(client, member)

    response = client.post(f"/posts/{post.id}/edit/", {"body": "Second wording"})
    client.post(f"/posts/{post.id}/edit/", {"body": "Third wording"})

    assert response.status_code == 302
    assert response["Location"] == f"{thread.get_absolute_url()}#post-{post.id}"
    page = login(client, member_factory()).get(thread.get_absolute_url()).content.decode()
    assert f'<a class="meta" href="/posts/{post.id}/history/">edited</a>' in page
    history = client.get(f"/posts/{post.id}/history/").content.decode()
    assert [history.index(text) for text in ("Third wording", "Second wording", "How do you start a group?")] == \
        sorted(history.index(text) for text in ("Third wording", "Second wording", "How do you start a group?"))
    assert history.count("</time> by Dana Member") == 2


def test_edit_page_is_404_to_another_member(client, member_factory, post):
    login(client, member_factory())

    assert client.get(f"/posts/{post.id}/edit/").status_code == 404
    assert client.post(f"/posts/{post.id}/edit/", {"body": "Mine now"}).status_code == 404


def test_edit_post_updates_mail_not_yet_delivered_and_sends_nothing_again(
    member, member_factory, post, mailoutbox
):
    reader = member_factory(mail_mode=MailPreference.Mode.EACH)
    before = build_post_message(post.id, reader).body  # the rendering is now cached in this process
    sent = len(mailoutbox)

    edit_post(editor=member, post_id=post.id, body="A clearer question about groups")

    assert "How do you start a group?" in before
    assert "A clearer question about groups" in build_post_message(post.id, reader).body
    assert len(mailoutbox) == sent


def test_delete_post_shows_placeholder_and_keeps_replies(client, member, member_factory, thread, post,
                                                          reply_factory):
    reply = reply_factory(author=member_factory(), parent=post, body="A reply that stays.")
    login(client, member)

    confirm = client.get(f"/posts/{post.id}/delete/")
    assert confirm.status_code == 200
    assert Post.objects.get(pk=post.pk).deleted_at is None
    response = client.post(f"/posts/{post.id}/delete/")

    assert response.status_code == 302
    post.refresh_from_db()
    assert post.deleted_at is not None and post.deleted_by == member
    page = client.get(thread.get_absolute_url()).content.decode()
    assert "This post was deleted." in page
    assert "How do you start a group?" not in page
    assert "A reply that stays." in page
    assert f'id="post-{reply.id}"' in page
    assert not AuditRecord.objects.exists()


def test_delete_post_refused_to_another_member(client, member_factory, post):
    login(client, member_factory())

    assert client.post(f"/posts/{post.id}/delete/").status_code == 404
    with pytest.raises(PostChangeNotAllowed):
        delete_post(actor=member_factory(), post_id=post.id)
    assert Post.objects.get(pk=post.pk).deleted_at is None


def test_moderator_deletes_and_restores_with_audit(client, moderator, member, post, thread):
    login(client, moderator)

    client.post(f"/posts/{post.id}/delete/", {"reason": "Identifying details"})
    page = client.get(thread.get_absolute_url()).content.decode()
    assert f'action="/posts/{post.id}/restore/"' in page
    client.post(f"/posts/{post.id}/restore/", {"reason": "Details removed by the author"})

    post.refresh_from_db()
    assert post.deleted_at is None and post.deleted_by is None
    assert list(AuditRecord.objects.order_by("created_at").values_list("action", "actor", "subject", "reason")) == [
        ("post_deleted", moderator.id, member.id, "Identifying details"),
        ("post_restored", moderator.id, member.id, "Details removed by the author"),
    ]


def test_restore_post_refused_to_author(member, post):
    delete_post(actor=member, post_id=post.id)

    with pytest.raises(PostChangeNotAllowed):
        restore_post(moderator=member, post_id=post.id)


def test_deleted_post_is_not_delivered_after_fan_out(member, member_factory, thread, reply_factory, mailoutbox,
                                                     django_capture_on_commit_callbacks):
    reader = member_factory(mail_mode=MailPreference.Mode.EACH)
    reply = reply_factory(author=member, parent=thread.posts.get(), body="Sent too soon.")
    row = OutboundMessage.objects.get(post=reply, member=reader)
    OutboundMessage.objects.filter(pk=row.pk).update(status=OutboundMessage.Status.PENDING, sent_at=None)
    sent = len(mailoutbox)

    delete_post(actor=member, post_id=reply.id)
    deliver_outbound(row.id)

    assert len(mailoutbox) == sent
    assert OutboundMessage.objects.get(pk=row.pk).status == OutboundMessage.Status.SKIPPED


def test_deleted_post_is_left_out_of_digests(member, member_factory, post, reply_factory, mailoutbox, settings):
    settings.DIGEST_HOUR = 0
    reader = member_factory(mail_mode=MailPreference.Mode.DAILY)
    kept = reply_factory(author=member, parent=post, body="Kept in the digest.")
    gone = reply_factory(author=member, parent=post, body="Deleted before the digest.")
    delete_post(actor=member, post_id=gone.id)
    mailoutbox.clear()

    send_due_digests(now=timezone.now() + SETTLING)  # a digest covers posts until SETTLING before it runs

    digest = next(message for message in mailoutbox if message.to == [reader.email])
    assert kept.body in digest.body
    assert gone.body not in digest.body


def test_quote_prefills_the_reply_form(client, member_factory, thread, post):
    login(client, member_factory())

    page = client.get(f"/posts/{post.id}/reply/?quote=1").content.decode()
    plain = client.get(f"/posts/{post.id}/reply/").content.decode()

    assert "Dana Member wrote:\n\n&gt; How do you start a group?\n\n</textarea>" in page
    assert "&gt; How do you start a group?" not in plain
    page = client.get(thread.get_absolute_url()).content.decode()
    assert f'href="/posts/{post.id}/reply/?quote=1">Quote<span' in page


def test_history_of_hidden_post_is_404_to_other_members(client, member_factory, post):
    Post.objects.filter(pk=post.pk).update(hidden_at=timezone.now(), hidden_reason="Review")

    assert login(client, member_factory()).get(f"/posts/{post.id}/history/").status_code == 404
