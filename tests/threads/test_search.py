from datetime import timedelta

from django.db import connection
from django.utils import timezone

from threads.models import Category, EConsultation, Post, Webinar
from threads.search import Filters, safe_snippet, search_posts


def _found(user, text, **filters):
    return [post.pk for post in search_posts(user, text, Filters(**filters))]


def _opening(thread):
    return thread.posts.get(parent__isnull=True)


def test_search_posts_finds_other_forms_of_a_word(member, thread_factory):
    thread = thread_factory(title="Sessions with a language barrier",
                            body="Our interpreter joined the session by phone.")

    assert _found(member.user, "interpreters") == [_opening(thread).pk]
    assert _found(member.user, "gardening") == []


def test_search_posts_ranks_title_match_above_body_match(member, thread_factory):
    in_body = thread_factory(title="Sleep problems", body="Interpreters often tell me clients cannot sleep.")
    in_title = thread_factory(title="Working with interpreters", body="Where do you find good ones?")

    assert _found(member.user, "interpreter") == [_opening(in_title).pk, _opening(in_body).pk]


def test_search_posts_finds_replies_by_body(member, member_factory, thread, reply_factory):
    reply = reply_factory(author=member_factory(), parent=_opening(thread), body="Try a grounding exercise first.")

    assert _found(member.user, "grounding exercises") == [reply.pk]


def test_search_posts_supports_web_search_syntax(member, thread_factory):
    both = thread_factory(title="Night terrors", body="Nightmares and flashbacks after the hearing.")
    only = thread_factory(title="Night shifts", body="Nightmares only.")

    assert _found(member.user, "nightmares -flashbacks") == [_opening(only).pk]
    assert _found(member.user, '"nightmares and flashbacks"') == [_opening(both).pk]


def test_search_posts_leaves_out_deleted_and_hidden_posts(member, member_factory, thread, reply_factory):
    opening = _opening(thread)
    deleted = reply_factory(author=member, parent=opening, body="Somatic symptoms in children.")
    hidden = reply_factory(author=member, parent=opening, body="Somatic symptoms in adults.")
    Post.objects.filter(pk=deleted.pk).update(deleted_at=timezone.now())
    Post.objects.filter(pk=hidden.pk).update(hidden_at=timezone.now(), hidden_reason="Identifying details")

    assert _found(member.user, "somatic") == []


def test_search_posts_finds_nothing_for_non_member(pending_member, thread_factory):
    thread_factory(title="Interpreters", body="Interpreters")

    assert _found(pending_member.user, "interpreters") == []


def test_search_posts_filters_by_category_author_and_date(member, member_factory, thread_factory, category):
    other_category = Category.objects.create(name="Legal and asylum")
    other_author = member_factory()
    mine = thread_factory(title="Asylum hearing preparation", body="Preparing for the hearing.")
    elsewhere = thread_factory(title="Hearing dates", body="Hearing backlog.", cat=other_category)
    theirs = thread_factory(author=other_author, title="Hearing notes", body="Hearing notes.")
    old = thread_factory(title="Old hearing", body="An old hearing.")
    last_month = timezone.now() - timedelta(days=30)
    Post.objects.filter(thread=old).update(created_at=last_month)

    assert set(_found(member.user, "hearing", category_id=other_category.pk)) == {_opening(elsewhere).pk}
    assert set(_found(member.user, "hearing", author_id=other_author.pk)) == {_opening(theirs).pk}
    assert set(_found(member.user, "hearing", until=(last_month + timedelta(days=1)).date())) == {_opening(old).pk}
    assert _opening(old).pk not in _found(member.user, "hearing", since=timezone.localdate() - timedelta(days=2))
    assert _opening(mine).pk in _found(member.user, "hearing", category_id=category.pk, author_id=member.pk)


def test_search_posts_filters_by_webinar(member, moderator, thread_factory):
    consultation = thread_factory(author=moderator, title="E-consultation: group work",
                                  body="Bring questions about group cohesion.")
    thread_factory(title="Cohesion in teams", body="Team cohesion after a hard week.")
    webinar = Webinar.objects.create(title="Group work", starts_at=timezone.now())
    EConsultation.objects.create(webinar=webinar, thread=consultation, live_starts_at=timezone.now(),
                                 live_ends_at=timezone.now() + timedelta(hours=1))

    assert _found(member.user, "cohesion", webinar_id=webinar.pk) == [_opening(consultation).pk]
    assert len(_found(member.user, "cohesion")) == 2


def test_search_posts_uses_the_stored_search_vectors(member):
    sql = str(search_posts(member.user, "interpreters").query)

    assert '"threads_post"."search_vector" @@' in sql
    assert '"threads_thread"."search_vector" @@' in sql
    assert "to_tsvector" not in sql  # computing vectors per row would bypass the GIN indexes


def test_search_posts_can_use_the_gin_index(member, thread):
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = search_posts(member.user, "interpreters").explain()

    assert "post_search_gin" in plan


def test_search_page_highlights_matches_and_escapes_the_rest(member_client, thread_factory):
    thread_factory(title="Interpreters <em>again</em>",
                   body="Our <b>interpreter</b> said <script>alert(1)</script> something & more.")

    response = member_client.get("/search/", {"q": "interpreter"})

    result = response.context["page"][0]
    assert "<mark>interpreter</mark>" in result.snippet_html
    assert "<b>" not in result.snippet_html and "<script>" not in result.snippet_html
    assert "&amp; more" in result.snippet_html
    assert result.title_html.startswith("<mark>Interpreters</mark>")
    assert "<em>" not in result.title_html
    assert "<mark>interpreter</mark>" in response.content.decode()
    assert "<script>alert" not in response.content.decode()


def test_search_page_paginates_by_twenty(member_client, member, thread, reply_factory):
    opening = _opening(thread)
    for n in range(25):
        reply_factory(author=member, parent=opening, body=f"Trauma-informed supervision, note {n}.")

    first = member_client.get("/search/", {"q": "supervision"})
    second = member_client.get("/search/", {"q": "supervision", "page": 2})

    assert first.context["page"].paginator.count == 25
    assert len(first.context["page"].object_list) == 20
    assert len(second.context["page"].object_list) == 5
    assert "q=supervision&amp;page=2" in first.content.decode()


def test_search_page_query_count_is_constant(member_client, member, thread, reply_factory,
                                             django_assert_num_queries):
    opening = _opening(thread)
    for n in range(3):
        reply_factory(author=member, parent=opening, body=f"Vicarious trauma {n}.")
    # user and member; the count and the page of results; the library's matches; the category and webinar choices
    with django_assert_num_queries(7):
        member_client.get("/search/", {"q": "vicarious"})
    for n in range(20):
        reply_factory(author=member, parent=opening, body=f"Vicarious trauma again {n}.")

    with django_assert_num_queries(7):
        response = member_client.get("/search/", {"q": "vicarious"})
    assert len(response.context["page"].object_list) == 20


def test_search_page_without_words_shows_only_the_form(member_client, thread):
    response = member_client.get("/search/")

    assert response.status_code == 200
    assert response.context["page"] is None


def test_safe_snippet_drops_markdown_emphasis_but_keeps_words(db):
    headline = "**<mark>Interpreter</mark>** fatigue in `group_work` and _long_ sessions < 2 hours"

    assert safe_snippet(headline) == (
        "<mark>Interpreter</mark> fatigue in group_work and long sessions &lt; 2 hours"
    )
