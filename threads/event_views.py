from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from community.access import can_post
from community.mfa import moderator_required

from .attachments import is_inline
from .feeds import (
    NewThreadsFeed,
    active_tokens,
    calendar,
    ensure_tokens,
    feed_url,
    issue_token,
    member_for_token,
    revoke_token,
)
from .guard_forms import GuardForm, guarded
from .models import FeedToken
from .services import PostingNotAllowed
from .webinars import (
    QUESTION_STATES,
    SUMMARY_STATES,
    NotAHost,
    calendar_webinars,
    create_econsultation,
    econsultation_of,
    events,
    get_readable_webinar,
    is_host,
    questions,
    submit_question,
    write_summary,
)

PAST_PER_PAGE = 20


class QuestionForm(forms.Form):
    body = forms.CharField(
        label="Your question", max_length=50000, widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Markdown works. Describe cases without anything that could identify a client.",
    )


class SummaryForm(forms.Form):
    summary = forms.CharField(
        label="Summary", max_length=50000, widget=forms.Textarea(attrs={"rows": 14}),
        help_text="Markdown. Participants are emailed the summary when it is first saved.",
    )


class EConsultationForm(forms.Form):
    live_starts_at = forms.DateTimeField(
        label="Live from", required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Leave empty for one week after the webinar. Times are in the site's time zone.",
    )
    live_ends_at = forms.DateTimeField(
        label="Live until", required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Leave empty for as long as the webinar.",
    )


def event_list(request):
    upcoming, past = events(request.user)
    return render(request, "threads/events.html", {
        "upcoming": upcoming,
        "past": Paginator(past, PAST_PER_PAGE).get_page(request.GET.get("page")),
    })


def _webinar_page(request, webinar, *, question_form=None, guard=None):
    econsultation = econsultation_of(webinar)
    context = {"webinar": webinar, "econsultation": econsultation, "guard": guard}
    if econsultation is not None:
        state = econsultation.state()
        takes_questions = state in QUESTION_STATES and can_post(request.user, econsultation.thread)
        context.update(
            state=state, questions=questions(econsultation),
            can_summarise=state in SUMMARY_STATES and is_host(request.member, econsultation),
            # A refused question is shown again with the reason, so what was typed is not lost.
            question_form=question_form or (QuestionForm() if takes_questions else None),
        )
    return render(request, "threads/webinar.html", context)


def webinar(request, webinar_id):
    return _webinar_page(request, get_readable_webinar(request.user, webinar_id))


def webinar_ics(request, webinar_id):
    webinar = get_readable_webinar(request.user, webinar_id)
    response = HttpResponse(calendar([webinar], name=webinar.title), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="webinar-{webinar.pk}.ics"'
    return response


def webinar_slide(request, webinar_id, attachment_id):
    webinar = get_readable_webinar(request.user, webinar_id)
    slide = next((slide for slide in webinar.slides.all() if slide.pk == attachment_id), None)
    if slide is None:
        raise Http404
    response = FileResponse(slide.file.open("rb"), as_attachment=not is_inline(slide), filename=slide.original_name,
                            content_type=slide.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-cache"
    return response


@require_POST
def ask_question(request, webinar_id):
    webinar = get_readable_webinar(request.user, webinar_id)
    econsultation = econsultation_of(webinar)
    if econsultation is None:
        raise Http404
    form = QuestionForm(request.POST)
    guard = GuardForm(request.POST)
    if form.is_valid():
        try:
            post, guard = guarded(guard, lambda confirmation: submit_question(
                author=request.member, econsultation=econsultation, body=form.cleaned_data["body"],
                confirmation=confirmation))
        except PostingNotAllowed as error:
            form.add_error(None, str(error))
        else:
            if post is not None:
                messages.success(request, "Your question was posted. The hosts will see it before the live "
                                          "session.")
                return redirect(post)
    return _webinar_page(request, webinar, question_form=form, guard=guard)


def econsultation_summary(request, webinar_id):
    webinar = get_readable_webinar(request.user, webinar_id)
    econsultation = econsultation_of(webinar)
    if econsultation is None:
        raise Http404
    if not is_host(request.member, econsultation):
        raise PermissionDenied
    form = SummaryForm(request.POST or None, initial={"summary": econsultation.summary})
    if form.is_valid():
        try:
            write_summary(econsultation=econsultation, author=request.member, summary=form.cleaned_data["summary"])
        except NotAHost:
            raise PermissionDenied from None
        except PostingNotAllowed as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "The summary is saved.")
            return redirect("webinar", webinar.pk)
    return render(request, "threads/econsultation_summary.html",
                  {"webinar": webinar, "econsultation": econsultation, "form": form})


@moderator_required
def new_econsultation(request, webinar_id):
    webinar = get_readable_webinar(request.user, webinar_id)
    if econsultation_of(webinar) is not None:
        return redirect("webinar", webinar.pk)
    form = EConsultationForm(request.POST or None)
    if form.is_valid():
        try:
            create_econsultation(webinar, moderator=request.member, **form.cleaned_data)
        except (PostingNotAllowed, ValueError) as error:
            form.add_error(None, str(error))
        else:
            return redirect("webinar", webinar.pk)
    return render(request, "threads/econsultation_new.html", {"webinar": webinar, "form": form})


def feeds(request):
    tokens = active_tokens(request.member)
    return render(request, "threads/events_feeds.html", {
        "calendar_url": feed_url(tokens[FeedToken.Kind.CALENDAR]) if FeedToken.Kind.CALENDAR in tokens else "",
        "news_url": feed_url(tokens[FeedToken.Kind.NEWS]) if FeedToken.Kind.NEWS in tokens else "",
    })


@require_POST
def feed_tokens(request, action):
    kind = request.POST.get("kind")
    if action == "create":
        ensure_tokens(request.member)
    elif kind not in FeedToken.Kind.values:
        raise Http404
    elif action == "regenerate":
        issue_token(request.member, kind)
        messages.success(request, "A new link was made. The old one no longer works: update your app.")
    elif action == "revoke":
        revoke_token(request.member, kind)
        messages.success(request, "The link was turned off.")
    return redirect("feeds")


def calendar_feed(request, token):
    member = member_for_token(token, FeedToken.Kind.CALENDAR)
    return HttpResponse(calendar(calendar_webinars(member.user), name="HealTalk events"),
                        content_type="text/calendar; charset=utf-8")


threads_feed = NewThreadsFeed()

