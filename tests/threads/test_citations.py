import uuid
from email.message import EmailMessage

from mailer import inbound
from tests.mailer.inbound_mail import reply_address
from threads.citations import cited_ids
from threads.models import Post, ResourceCitation
from threads.posts import edit_post
from threads.services import create_reply


def _cited(post) -> set[int]:
    return set(ResourceCitation.objects.filter(post=post).values_list("resource_id", flat=True))


def test_create_thread_records_a_relative_link_to_a_resource(member, thread_factory, resource_factory):
    resource = resource_factory()

    thread = thread_factory(body=f"We use [this guide]({resource.get_absolute_url()}) with new interpreters.")

    assert _cited(thread.posts.get()) == {resource.pk}


def test_create_reply_records_an_absolute_link_to_a_resource(member, opening_post, reply_factory, resource_factory,
                                                              settings):
    settings.SITE_URL = "https://talk.example.org"
    handout, toolkit = resource_factory(title="Handout"), resource_factory(title="Toolkit")

    reply = reply_factory(author=member, parent=opening_post,
                          body=f"See https://talk.example.org/resources/{handout.pk}/ and "
                               f"(https://talk.example.org/resources/{toolkit.pk})")

    assert _cited(reply) == {handout.pk, toolkit.pk}


def test_cited_ids_ignore_other_sites_and_other_pages(settings):
    settings.SITE_URL = "https://talk.example.org"

    assert cited_ids("https://other.example.com/resources/3/ and https://talk.example.org/resources/4/edit/ and "
                     "/x/resources/5/ and /resources/topics/ and /resources/6/.") == {6}


def test_create_reply_ignores_links_to_resources_that_do_not_exist(member, opening_post, reply_factory,
                                                                    resource_factory):
    resource = resource_factory()

    reply = reply_factory(author=member, parent=opening_post,
                          body=f"/resources/{resource.pk + 1000}/ and /resources/{resource.pk}/")

    assert _cited(reply) == {resource.pk}


def test_a_post_without_resource_links_cites_nothing(member, thread, reply_factory, resource_factory):
    resource_factory()

    reply = reply_factory(author=member, parent=thread.posts.get(), body="No links here, only /resources/.")

    assert _cited(reply) == set()


def test_a_held_post_records_its_citations_too(held_member, opening_post, resource_factory,
                                               django_capture_on_commit_callbacks):
    resource = resource_factory()

    with django_capture_on_commit_callbacks(execute=True):
        reply = create_reply(author=held_member, parent=opening_post, body=f"Try /resources/{resource.pk}/")

    assert reply.held_at is not None
    assert _cited(reply) == {resource.pk}


def test_edit_post_adds_new_citations_and_removes_those_gone(member, opening_post, reply_factory, resource_factory,
                                                             django_capture_on_commit_callbacks):
    kept, dropped, added = resource_factory(title="Kept"), resource_factory(title="Dropped"), resource_factory(
        title="Added")
    reply = reply_factory(author=member, parent=opening_post,
                          body=f"/resources/{kept.pk}/ and /resources/{dropped.pk}/")

    with django_capture_on_commit_callbacks(execute=True):
        edit_post(editor=member, post_id=reply.pk, body=f"/resources/{kept.pk}/ and /resources/{added.pk}/")

    assert _cited(reply) == {kept.pk, added.pk}

    with django_capture_on_commit_callbacks(execute=True):
        edit_post(editor=member, post_id=reply.pk, body="Nothing cited any more.")

    assert _cited(reply) == set()


def test_an_emailed_reply_records_its_citations(member_factory, opening_post, resource_factory, settings,
                                                django_capture_on_commit_callbacks):
    settings.SITE_URL = "https://talk.example.org"
    resource = resource_factory()
    replier = member_factory(full_name="Rosa Alvarez")
    message = EmailMessage()
    message["From"] = f"Rosa Alvarez <{replier.email}>"
    message["To"] = reply_address(opening_post, replier)
    message["Subject"] = f"Re: {opening_post.thread.title}"
    message["Message-ID"] = f"<{uuid.uuid4().hex}@mail.example.org>"
    message["In-Reply-To"] = opening_post.message_id
    message.set_content(f"Our handout is in the library:\nhttps://talk.example.org/resources/{resource.pk}/\n\nRosa\n")

    with django_capture_on_commit_callbacks(execute=True):
        inbound.receive_raw(message.as_bytes(), envelope_recipient=message["To"])

    reply = Post.objects.get(author=replier)
    assert reply.source == Post.Source.EMAIL
    assert _cited(reply) == {resource.pk}
