"""A member's own data, as one file they download from their profile page: a zip holding data.json (everything, for
programs), data.md (the same, for people to read) and emails/ (each email they sent to the list that we still keep,
as it arrived, and the Google Group originals of their imported posts). It lives in mailer because it gathers all
three apps; it is built in a fixed number of queries, however much they wrote.

Attachments are listed with their download links, not included: one file can be 20 MB (ATTACHMENT_MAX_BYTES), and
the zip is built while the member waits. The links work for as long as they are a member.
"""

import io
import json
import zipfile
import zoneinfo
from dataclasses import dataclass
from datetime import datetime

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from community.models import Application, ErasureRequest, Member
from threads.models import (
    Attachment,
    Bookmark,
    GuardCheck,
    Post,
    PostRevision,
    Reaction,
    Resource,
    Subscription,
    Thread,
    ThreadRead,
)

from .models import ImportedMessage, InboundMessage, MailPreference

FORMAT = "HealTalk member data, version 1"


@dataclass(frozen=True)
class MemberData:
    data: dict
    emails: list[tuple[str, str]]  # (file name in the zip, the email as stored)


def _url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def _file(attachment: Attachment) -> dict:
    return {"name": attachment.original_name, "type": attachment.content_type, "bytes": attachment.size,
            "link": _url(reverse("attachment", args=[attachment.id, attachment.original_name]))}


def _post_state(post: Post) -> str:
    if post.deleted_at:
        return "deleted"
    if post.held_at:
        return "waiting for a moderator"
    if post.hidden_at:
        return "hidden by a moderator"
    return "published"


def member_data(member: Member) -> MemberData:
    """Eighteen queries, whatever the member wrote."""
    member = Member.objects.select_related("user", "organization").get(pk=member.pk)
    addresses = list(EmailAddress.objects.filter(user_id=member.user_id).order_by("-primary", "email"))
    preference = MailPreference.objects.filter(member=member).first()
    subscriptions = list(Subscription.objects.filter(member=member).select_related("thread", "category")
                         .defer("thread__search_vector").order_by("created_at", "id"))
    threads = list(Thread.objects.filter(author=member).select_related("category").defer("search_vector")
                   .order_by("created_at", "id"))
    posts = list(Post.objects.filter(author=member).select_related("thread").defer("search_vector", "html",
                                                                                   "thread__search_vector")
                 .order_by("created_at", "id"))
    revisions: dict[int, list[PostRevision]] = {}
    for revision in PostRevision.objects.filter(post__author=member).order_by("created_at", "id"):
        revisions.setdefault(revision.post_id, []).append(revision)
    attachments: dict[int, list[Attachment]] = {}
    resource_files: dict[int, list[Attachment]] = {}
    for attachment in (Attachment.objects.filter(Q(post__author=member) | Q(resource__submitted_by=member))
                       .order_by("created_at", "id")):
        if attachment.post_id:
            attachments.setdefault(attachment.post_id, []).append(attachment)
        else:
            resource_files.setdefault(attachment.resource_id, []).append(attachment)
    resources = list(Resource.objects.filter(submitted_by=member).prefetch_related("topics")
                     .defer("search_vector", "description_html").order_by("submitted_at", "id"))
    bookmarks = list(Bookmark.objects.filter(member=member).select_related("post__thread")
                     .defer("post__search_vector", "post__html", "post__body", "post__thread__search_vector")
                     .order_by("created_at", "id"))
    reactions = list(Reaction.objects.filter(member=member).select_related("post__thread")
                     .defer("post__search_vector", "post__html", "post__body", "post__thread__search_vector")
                     .order_by("created_at", "id"))
    reads = list(ThreadRead.objects.filter(member=member).select_related("thread").defer("thread__search_vector")
                 .order_by("thread_id"))
    applications = list(Application.objects.filter(member=member).select_related("organization")
                        .order_by("submitted_at", "id"))
    sender = Q(pk__in=[])
    for address in {address.email.lower() for address in addresses} | {member.user.email.lower()}:
        sender |= Q(sender__iexact=address)
    sent = list(InboundMessage.objects.filter(sender | Q(post__author=member)).order_by("received_at", "id"))
    imported = list(ImportedMessage.objects.filter(post__author=member).order_by("imported_at", "id"))
    erasure_requests = list(ErasureRequest.objects.filter(member=member).order_by("requested_at", "id"))
    guard_checks = list(GuardCheck.objects.filter(author=member).order_by("created_at", "id"))

    emails = [(f"emails/sent-{message.id}.eml", message.raw) for message in sent if message.raw]
    emails += [(f"emails/google-group-{message.id}.eml", message.raw) for message in imported if message.raw]
    data = {
        "format": FORMAT,
        "exported_at": timezone.now(),
        "site": settings.SITE_URL,
        "profile": {
            "full_name": member.full_name,
            "role_or_title": member.role_title,
            "kind_of_work": member.get_staff_role_display() if member.staff_role else "",
            "organization": member.organization_label,
            "bio": member.bio,
            "areas_of_practice": member.areas_of_practice,
            "time_zone": member.time_zone or settings.TIME_ZONE,
            "membership": member.get_status_display(),
            "role": member.get_role_display(),
            "applied_at": member.created_at,
            "joined_at": member.joined_at,
            "last_confirmed_eligible_at": member.verified_at,
            "left_at": member.departed_at,
        },
        "visibility": {
            "show_organization": member.show_organization,
            "show_role": member.show_role,
            "show_bio_and_areas_of_practice": member.show_bio,
            "show_email": member.show_email,
        },
        "reading": {"always_show_posts_behind_a_content_note": member.expand_content_notes},
        "email_addresses": [
            {"email": address.email, "verified": address.verified, "primary": address.primary}
            for address in addresses
        ],
        "mail_settings": {
            "mode": (preference.get_mode_display() if preference else MailPreference.Mode.DAILY.label),
            "paused_since": preference.delivery_paused_at if preference else None,
            "pause_reason": preference.delivery_pause_reason if preference else "",
        },
        "category_choices": [
            {"category": choice.category.name, "email": choice.get_level_display()}
            for choice in subscriptions if choice.category_id
        ],
        "thread_choices": [
            {"thread": choice.thread.title, "link": _url(choice.thread.get_absolute_url()),
             "email": choice.get_level_display()}
            for choice in subscriptions if choice.thread_id
        ],
        "threads_started": [
            {"title": thread.title, "category": thread.category.name, "started_at": thread.created_at,
             "link": _url(thread.get_absolute_url())}
            for thread in threads
        ],
        "posts": [
            {
                "thread": post.thread.title,
                "link": _url(post.get_absolute_url()),
                "in_reply_to": _url(reverse("post", args=[post.parent_id])) if post.parent_id else None,
                "written_at": post.created_at,
                "written_by": {"web": "web", "email": "email", "live": "live room",
                               "import": "Google Group"}.get(post.source, post.source),
                "state": _post_state(post),
                "anonymous": post.anonymous,
                "content_note": post.content_note,
                "text": post.body,
                "edited_at": post.edited_at,
                "edit_history": [
                    {"text": revision.body, "replaced_at": revision.created_at,
                     "replaced_by": "you" if revision.edited_by_id == member.pk else "a moderator"}
                    for revision in revisions.get(post.id, [])
                ],
                "attachments": [_file(attachment) for attachment in attachments.get(post.id, [])],
            }
            for post in posts
        ],
        "resources_shared": [
            {"title": resource.title, "description": resource.description, "link": resource.url,
             "library_page": _url(resource.get_absolute_url()), "submitted_at": resource.submitted_at,
             "state": resource.get_status_display(), "moderator_note": resource.review_note,
             "topics": [topic.name for topic in resource.topics.all()], "for": resource.get_audiences_display(),
             "language": resource.language,
             "files": [_file(attachment) for attachment in resource_files.get(resource.id, [])]}
            for resource in resources
        ],
        "bookmarks": [
            {"thread": bookmark.post.thread.title, "link": _url(bookmark.post.get_absolute_url()),
             "bookmarked_at": bookmark.created_at}
            for bookmark in bookmarks
        ],
        "reactions": [
            {"thread": reaction.post.thread.title, "link": _url(reaction.post.get_absolute_url()),
             "reaction": reaction.get_kind_display(), "at": reaction.created_at}
            for reaction in reactions
        ],
        "threads_read": [
            {"thread": read.thread.title, "link": _url(read.thread.get_absolute_url()), "read_until": read.last_read_at}
            for read in reads
        ],
        # The member's own answers; what moderators noted or found about an application is theirs, not here.
        "applications": [
            {"kind": application.get_kind_display(), "sent_at": application.submitted_at,
             "organization": application.organization_display,
             "program_type": application.get_eligibility_category_display(),
             "role_or_title": application.role_title, "work_email": application.work_email,
             "what_you_told_us": application.statement,
             "question_you_were_asked": application.info_request, "your_answer": application.info_response,
             "outcome": application.get_status_display(), "decided_at": application.decided_at}
            for application in applications
        ],
        "confidentiality_checks": [
            {"at": check.created_at, "where": check.get_source_display(), "outcome": check.get_outcome_display(),
             "found": sorted({finding.get("kind", "") for finding in check.findings}),
             "your_reason": check.reason if check.decided_by_id in (None, member.pk) else ""}
            for check in guard_checks
        ],
        "emails_sent_to_the_list": [
            {"subject": message.subject, "received_at": message.received_at,
             "what_happened": message.get_status_display(),
             "post": _url(reverse("post", args=[message.post_id])) if message.post_id else None,
             "file": f"emails/sent-{message.id}.eml" if message.raw else None}
            for message in sent
        ],
        "google_group_originals": [
            {"post": _url(reverse("post", args=[message.post_id])) if message.post_id else None,
             "imported_at": message.imported_at, "file": f"emails/google-group-{message.id}.eml"}
            for message in imported if message.raw
        ],
        "erasure_requests": [
            {"asked_at": request.requested_at, "note": request.note, "state": request.get_status_display(),
             "decided_at": request.decided_at, "reason_given": request.decline_reason}
            for request in erasure_requests
        ],
    }
    return MemberData(data=data, emails=emails)


def _quoted(text: str) -> list[str]:
    return [f"> {line}".rstrip() for line in (text or "").splitlines()] or [">"]


def markdown_of(data: dict) -> str:
    """The same data as a Markdown document a person reads from top to bottom."""
    zone_name = data["profile"]["time_zone"]
    zone = zoneinfo.ZoneInfo(zone_name)

    def when(value) -> str:
        return value.astimezone(zone).strftime("%B %-d, %Y, %H:%M") if isinstance(value, datetime) else "—"

    def yes(value: bool) -> str:
        return "yes" if value else "no"

    profile, visibility, mail = data["profile"], data["visibility"], data["mail_settings"]
    out = [
        f"# Your HealTalk data: {profile['full_name']}", "",
        f"Exported {when(data['exported_at'])} ({zone_name} time) from {data['site']}. The same data for computer "
        "programs is in data.json; the emails you sent to the list are in the emails folder.", "",
        "## Your profile", "",
        f"- Name: {profile['full_name']}",
        f"- Role or title: {profile['role_or_title'] or '—'}",
        f"- Kind of work: {profile['kind_of_work'] or '—'}",
        f"- Organization: {profile['organization'] or '—'}",
        f"- Areas of practice: {profile['areas_of_practice'] or '—'}",
        f"- Time zone: {zone_name}",
        f"- Membership: {profile['membership']} ({profile['role']}); applied {when(profile['applied_at'])}, "
        f"joined {when(profile['joined_at'])}, last confirmed {when(profile['last_confirmed_eligible_at'])}",
        "", "Bio:", "", *_quoted(profile["bio"]), "",
        "## What other members see", "",
        f"- Your organization: {yes(visibility['show_organization'])}",
        f"- Your role: {yes(visibility['show_role'])}",
        f"- Your bio and areas of practice: {yes(visibility['show_bio_and_areas_of_practice'])}",
        f"- Your email address: {yes(visibility['show_email'])}",
        f"- Posts behind a content note always shown to you: "
        f"{yes(data['reading']['always_show_posts_behind_a_content_note'])}", "",
        "## Your email addresses", "",
        *(f"- {address['email']}{' (primary)' if address['primary'] else ''}"
          f"{'' if address['verified'] else ' (not confirmed)'}" for address in data["email_addresses"]), "",
        "## Email from the list", "",
        f"- How often: {mail['mode']}",
        *([f"- Paused since {when(mail['paused_since'])}: {mail['pause_reason']}"] if mail["paused_since"] else []),
        *(f"- Category “{choice['category']}”: {choice['email']}" for choice in data["category_choices"]),
        *(f"- Thread “{choice['thread']}”: {choice['email']} ({choice['link']})" for choice in data["thread_choices"]),
        "", f"## Threads you started ({len(data['threads_started'])})", "",
        *(f"- {when(thread['started_at'])}: “{thread['title']}” in {thread['category']} ({thread['link']})"
          for thread in data["threads_started"]),
        "", f"## Your posts ({len(data['posts'])})", "",
    ]
    for post in data["posts"]:
        out += [f"### {when(post['written_at'])}, in “{post['thread']}”", "",
                f"{post['link']} · by {post['written_by']} · {post['state']}"
                f"{' · posted anonymously' if post['anonymous'] else ''}"
                f"{' · content note: ' + post['content_note'] if post['content_note'] else ''}", "",
                *_quoted(post["text"]), ""]
        out += [f"- File: {item['name']} ({item['type']}, {item['bytes']} bytes): {item['link']}"
                for item in post["attachments"]]
        for version in post["edit_history"]:
            out += ["", f"Earlier version, replaced {when(version['replaced_at'])} by {version['replaced_by']}:", "",
                    *_quoted(version["text"])]
        out.append("")
    out += [f"## Resources you shared with the library ({len(data['resources_shared'])})", ""]
    for resource in data["resources_shared"]:
        out += [f"### “{resource['title']}”, sent {when(resource['submitted_at'])}: {resource['state']}", "",
                f"{resource['link'] or 'No link'} · {resource['library_page']} · {resource['language']}"
                f"{' · ' + ', '.join(resource['topics']) if resource['topics'] else ''}", "",
                *_quoted(resource["description"]), ""]
        out += [f"- File: {item['name']} ({item['type']}, {item['bytes']} bytes): {item['link']}"
                for item in resource["files"]]
        if resource["moderator_note"]:
            out += ["", "The moderator's note:", "", *_quoted(resource["moderator_note"])]
        out.append("")
    out += [f"## Bookmarks ({len(data['bookmarks'])})", "",
            *(f"- {when(item['bookmarked_at'])}: “{item['thread']}” ({item['link']})" for item in data["bookmarks"]),
            "", f"## Posts you marked helpful ({len(data['reactions'])})", "",
            *(f"- {when(item['at'])}: “{item['thread']}” ({item['link']})" for item in data["reactions"]),
            "", f"## Threads you have read ({len(data['threads_read'])})", "",
            *(f"- “{item['thread']}”, up to {when(item['read_until'])}" for item in data["threads_read"]),
            "", f"## Your applications ({len(data['applications'])})", ""]
    for application in data["applications"]:
        out += [f"### {application['kind']}, sent {when(application['sent_at'])}: {application['outcome']}", "",
                f"- Organization: {application['organization']} ({application['program_type']})",
                f"- Role: {application['role_or_title']}", f"- Work email: {application['work_email']}", "",
                "What you told us:", "", *_quoted(application["what_you_told_us"]), ""]
        if application["your_answer"]:
            out += ["You were asked:", "", *_quoted(application["question_you_were_asked"]), "", "You answered:", "",
                    *_quoted(application["your_answer"]), ""]
    out += [f"## Emails you sent to the list ({len(data['emails_sent_to_the_list'])})", "",
            *(f"- {when(item['received_at'])}: “{item['subject']}”, {item['what_happened'].lower()}"
              f"{' (' + item['file'] + ')' if item['file'] else ' (the email itself is no longer kept)'}"
              for item in data["emails_sent_to_the_list"]),
            *(f"- Imported from the Google Group: {item['post']} ({item['file']})"
              for item in data["google_group_originals"]), ""]
    if data["confidentiality_checks"]:
        out += ["## Confidentiality checks of your posts", "",
                *(f"- {when(item['at'])}, {item['where']}: {item['outcome']} ({', '.join(item['found']) or '—'})"
                  f"{' — your reason: ' + item['your_reason'] if item['your_reason'] else ''}"
                  for item in data["confidentiality_checks"]), ""]
    if data["erasure_requests"]:
        out += ["## Requests to be erased", "",
                *(f"- Asked {when(item['asked_at'])}: {item['state']}" for item in data["erasure_requests"]), ""]
    return "\n".join(out).rstrip() + "\n"


def archive_name(member: Member, now: datetime | None = None) -> str:
    return f"healtalk-data-{(now or timezone.now()):%Y-%m-%d}.zip"


def member_archive(member: Member) -> bytes:
    exported = member_data(member)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", json.dumps(exported.data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2))
        archive.writestr("data.md", markdown_of(exported.data))
        for name, raw in exported.emails:
            archive.writestr(name, raw)
    return buffer.getvalue()
