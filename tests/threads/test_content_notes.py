"""Content notes: a whole post or a part of it behind a note, collapsed on the web until the reader opens it."""

import pytest

from community.models import Member
from threads.live import render_live_post
from threads.markdown import render_markdown
from threads.models import Post
from threads.notes import mail_text, post_text, preview, text_without_noted_parts
from threads.posts import edit_post, quote_body
from threads.services import create_reply

NOTED = "Before.\n\n::: note sexual violence\nWhat the client described.\n:::\n\nAfter."


def test_render_markdown_note_block_is_collapsed_behind_its_note():
    html = render_markdown(NOTED)

    assert html.startswith("<p>Before.</p>")
    assert ('<details class="content-note"><summary>Content note: sexual violence</summary>\n'
            "<p>What the client described.</p>\n</details>") in html
    assert "open" not in html
    assert html.rstrip().endswith("<p>After.</p>")


def test_render_markdown_note_block_nests_escapes_and_stays_sanitised():
    html = render_markdown(":::: note graphic injury\nOuter <b>x</b>\n::: note: self-harm & more\ninner\n:::\n::::")

    assert html.count('<details class="content-note">') == 2
    assert "<summary>Content note: self-harm &amp; more</summary>" in html
    assert "&lt;b&gt;" in html and "<b>" not in html


def test_render_markdown_other_containers_stay_text():
    assert "<details" not in render_markdown("::: warning\nnot a note\n:::")


def test_mail_text_puts_each_note_and_a_clear_break_before_its_part():
    text = mail_text(NOTED)

    before, note, rest = text.partition("CONTENT NOTE: SEXUAL VIOLENCE")
    assert before == "Before.\n\n" and note
    space, rule, covered = rest.partition("-" * 60)
    assert space.count("\n") >= 10 and not space.replace("The text it covers follows after this space.", "").strip()
    assert covered.strip().startswith("What the client described.")
    assert "(End of the part behind the content note.)\n\nAfter." in covered
    assert ":::" not in text


def test_post_text_puts_the_post_note_first(opening_post):
    opening_post.content_note = "describes torture methods"

    text = post_text(opening_post)

    assert text.startswith("CONTENT NOTE: DESCRIBES TORTURE METHODS\n")
    assert text.index("-" * 60) < text.index("How do you start a group?")


def test_previews_leave_noted_parts_and_noted_posts_out(opening_post):
    assert text_without_noted_parts(NOTED) == (
        "Before.\n\n[Content note: sexual violence: this part is left out here.]\n\nAfter.")
    opening_post.html = render_markdown(NOTED)
    assert preview(opening_post, 200) == "Before.\n[Content note: sexual violence: this part is left out here.]\nAfter."
    opening_post.content_note = "graphic injury"
    assert preview(opening_post, 200) == "Content note: graphic injury. Open the post to read it."


def test_reply_with_a_common_content_note_is_collapsed_on_the_thread_page(member_client, opening_post):
    response = member_client.post(f"/posts/{opening_post.id}/reply/", {
        "body": "Her account of the detention.", "content_note_choice": "sexual violence"})

    reply = Post.objects.get(parent=opening_post)
    assert response.status_code == 302 and reply.content_note == "sexual violence"
    page = member_client.get(opening_post.thread.get_absolute_url()).content.decode()
    assert ('<details class="content-note post-note"><summary>Content note: sexual violence</summary>' in page)


def test_new_thread_with_a_note_in_own_words(member_client, category):
    response = member_client.post("/threads/new/", {
        "category": category.id, "title": "A hard week", "body": "What we heard.",
        "content_note_choice": "own", "content_note_words": "a death in detention"})

    assert response.status_code == 302
    assert Post.objects.get(thread__title="A hard week").content_note == "a death in detention"


def test_reply_form_own_words_note_needs_the_words(member_client, opening_post):
    response = member_client.post(f"/posts/{opening_post.id}/reply/", {"body": "x", "content_note_choice": "own"})

    assert response.status_code == 200
    assert "Write the content note, or choose one of the notes above." in response.content.decode()
    assert not Post.objects.filter(parent=opening_post).exists()


def test_thread_page_opens_notes_for_a_member_who_always_expands(member_client, member, thread_factory):
    thread = thread_factory(body=NOTED)
    Post.objects.filter(thread=thread).update(content_note="suicide or self-harm")
    Member.objects.filter(pk=member.pk).update(expand_content_notes=True)

    page = member_client.get(thread.get_absolute_url()).content.decode()

    assert '<details class="content-note post-note" open>' in page
    assert '<details open class="content-note"><summary>Content note: sexual violence' in page
    assert 'data-expand-notes="on"' in page  # live.js opens notes in live frames too


def test_live_frame_of_a_noted_post_is_collapsed_for_everyone(member, opening_post, django_capture_on_commit_callbacks):
    Member.objects.filter(pk=member.pk).update(expand_content_notes=True)
    with django_capture_on_commit_callbacks(execute=True):
        reply = create_reply(author=member, parent=opening_post, body=NOTED, content_note="graphic injury")

    html = render_live_post(Post.objects.select_related("author__organization", "thread").get(pk=reply.pk))

    assert '<details class="content-note post-note"><summary>Content note: graphic injury</summary>' in html
    assert '<details class="content-note"><summary>Content note: sexual violence</summary>' in html
    assert " open" not in html


def test_edit_post_sets_and_removes_the_note(member_client, member, opening_post):
    response = member_client.post(f"/posts/{opening_post.id}/edit/", {
        "body": opening_post.body, "content_note_choice": "violence against children"})
    assert response.status_code == 302
    opening_post.refresh_from_db()
    assert opening_post.content_note == "violence against children" and opening_post.edited_at
    assert not opening_post.revisions.exists()  # the words did not change

    form = member_client.get(f"/posts/{opening_post.id}/edit/").content.decode()
    assert '<option value="violence against children" selected>' in form

    edit_post(editor=member, post_id=opening_post.id, body=opening_post.body, content_note="")
    opening_post.refresh_from_db()
    assert opening_post.content_note == ""


def test_quote_body_keeps_the_quote_behind_the_note(opening_post):
    opening_post.content_note = "sexual violence"

    assert quote_body(opening_post) == (
        "Dana Member wrote:\n\n::: note sexual violence\n> How do you start a group?\n:::\n\n")


def test_noted_post_shows_pictures_as_links_only(opening_post, member_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from threads.attachments import save_attachments

    png = (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    save_attachments(opening_post, [SimpleUploadedFile("wound.png", png, content_type="image/png")],
                     opening_post.author)
    page = lambda: member_client.get(opening_post.thread.get_absolute_url()).content.decode()  # noqa: E731
    assert 'class="attachment-image"' in page()

    Post.objects.filter(pk=opening_post.pk).update(content_note="graphic injury")

    assert 'class="attachment-image"' not in page() and "wound.png</a>" in page()


@pytest.mark.parametrize("noted", ["post", "part"])
def test_search_snippet_of_noted_text_shows_behind_its_note(member_client, thread_factory, noted):
    thread = thread_factory(title="Detention", body=NOTED if noted == "part" else "What the client described.")
    if noted == "post":
        Post.objects.filter(thread=thread).update(content_note="sexual violence")

    page = member_client.get("/search/", {"q": "client described"}).content.decode()

    assert '<details class="content-note"><summary>Content note: sexual violence</summary><p class="snippet">' in page
    assert ":::" not in page.split("search-results")[1]
