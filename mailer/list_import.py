"""Moving from the Google Group (`manage.py import_google_group`), and what follows when its people arrive.

- The member list becomes ListInvitation rows, never accounts: people apply and are approved as anyone else.
- The archive becomes threads in one category. Posts keep their dates and Message-IDs, show the author's own
  words, and nothing is published (threads.imports). Each message's original is kept in ImportedMessage, whose
  unique Message-ID makes a second run add nothing; each conversation is written in its own transaction, so an
  import stopped half-way is simply run again.
- Authors: an address verified by an account here gets the posts directly; anyone else gets a placeholder
  member (community.placeholders) under the name the archive gives, linked from the address's invitation (one
  with source "archive" for authors no longer on the member list), until an account verifies that address
  (claim_imported_posts).
- When an invited person is approved, their group delivery becomes their mail setting unless they chose one.
- Invitations to apply are sent on request, once per person (send_invitation).
"""

import contextlib
from dataclasses import dataclass, field
from email.utils import make_msgid
from functools import partial

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models.functions import Lower
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from community.models import Application, Member
from community.placeholders import create_placeholder, retire_placeholder
from threads.imports import create_imported_reply, create_imported_thread, reassign_posts
from threads.models import Category, Post

from . import google_export
from .models import ImportedMessage, ListInvitation, MailPreference

# Replies to Google's digests arrive titled after the digest: a moderator should give them a real title.
_DIGEST_TITLES = ("digest for ", "abridged summary of ")


@dataclass
class ImportReport:
    dry_run: bool = False
    member_rows: int = 0
    invitations_created: int = 0
    invitations_updated: int = 0
    member_rows_skipped: list[str] = field(default_factory=list)
    unknown_time_zones: set[str] = field(default_factory=set)
    entries: int = 0
    duplicates: int = 0
    automated: int = 0
    already_imported: int = 0
    posts: int = 0
    threads: int = 0
    replies_to_earlier_imports: int = 0
    authors: int = 0
    authors_on_member_list: int = 0
    authors_archive_only: int = 0
    authors_with_account: int = 0
    authors_without_address: int = 0
    placeholders_created: int = 0
    attachments: int = 0
    attachments_refused: list[str] = field(default_factory=list)
    to_retitle: list[str] = field(default_factory=list)
    category: str = ""
    invitations_queued: int = 0

    def lines(self) -> list[str]:
        lines = ["Dry run: nothing was saved." if self.dry_run else "Google Group import done."]
        if self.member_rows:
            lines += [
                f"Member list: {self.member_rows} rows, {self.invitations_created} new invitations, "
                f"{self.invitations_updated} updated.",
                *(f"  skipped {reason}" for reason in self.member_rows_skipped),
                *(f"  unknown time zone “{zone}”: join times read as {settings.TIME_ZONE}"
                  for zone in sorted(self.unknown_time_zones)),
            ]
        if self.entries:
            lines += [
                f"Archive: {self.entries} messages, {self.duplicates} repeated (imported once), "
                f"{self.automated} automatic replies skipped, {self.already_imported} imported before.",
                f"Imported {self.posts} posts in {self.threads} new threads (category “{self.category}”)"
                + (f", {self.replies_to_earlier_imports} replies to earlier imports." if
                   self.replies_to_earlier_imports else "."),
                f"Authors of new posts: {self.authors} — {self.authors_on_member_list} on the member list, "
                f"{self.authors_archive_only} only in the archive, {self.authors_with_account} with an account "
                f"here; {self.placeholders_created} new placeholders keep the others' names until they claim "
                "their posts by verifying their address.",
                f"Attachments kept: {self.attachments}.",
                *(f"  refused: {reason}" for reason in self.attachments_refused),
                *(f"  no author address: {self.authors_without_address} authors" for _ in
                  range(bool(self.authors_without_address))),
                *(f"Worth a new title (a reply to a Google digest): “{title}”" for title in self.to_retitle),
            ]
        if self.invitations_queued:
            lines.append(f"Invitations to apply: {self.invitations_queued} queued.")
        return lines


def run_import(*, mbox=None, members: bytes | None = None, category: Category | None = None,
               dry_run: bool = False, progress=None) -> ImportReport:
    """Members first, so that authors are matched to their invitations. A dry run does everything in one
    transaction that is rolled back, and stores no files."""
    report = ImportReport(dry_run=dry_run)
    with transaction.atomic() if dry_run else contextlib.nullcontext():
        if members is not None:
            import_member_list(members, report)
        if mbox is not None:
            import_archive(mbox, category=category or archive_category(), report=report, progress=progress,
                           store_files=not dry_run)
        if dry_run:
            transaction.set_rollback(True)
    return report


def archive_category() -> Category:
    category, _ = Category.objects.get_or_create(
        name=f"{settings.LIST_NAME} archive",
        defaults={"description": f"Conversations from the {settings.LIST_NAME} Google Group, before HealTalk."},
    )
    return category


# ---------------------------------------------------------------------------------------------- member list


@transaction.atomic
def import_member_list(data: bytes, report: ImportReport) -> None:
    member_list = google_export.read_member_list(data, default_zone=settings.TIME_ZONE)
    report.member_rows = member_list.rows
    report.member_rows_skipped = member_list.skipped
    report.unknown_time_zones = member_list.unknown_time_zones
    addresses = [person.email for person in member_list.members]
    existing = {invitation.email: invitation for invitation in ListInvitation.objects.filter(email__in=addresses)}
    accounts = _accounts_by_address(addresses)
    for person in member_list.members:
        invitation = existing.get(person.email)
        fields = {
            "name": person.name or (invitation.name if invitation else ""), "source": ListInvitation.Source.MEMBER_LIST,
            "group_role": person.role[:20], "delivery": person.delivery, "posting_allowed": person.posting_allowed,
            "joined_group_at": person.joined_at,
        }
        if invitation is None:
            invitation = ListInvitation.objects.create(email=person.email, **fields)
            report.invitations_created += 1
        elif any(getattr(invitation, name) != value for name, value in fields.items()):
            for name, value in fields.items():
                setattr(invitation, name, value)
            invitation.save(update_fields=list(fields))
            report.invitations_updated += 1
        account = accounts.get(person.email)
        if account is not None and invitation.claimed_by_id is None:
            _claim(invitation, account)


def _accounts_by_address(addresses) -> dict[str, Member]:
    """Members whose account has verified one of these addresses (compared in lowercase)."""
    rows = (EmailAddress.objects.filter(verified=True, user__member__isnull=False)
            .exclude(user__member__status=Member.Status.PLACEHOLDER)
            .annotate(address=Lower("email")).filter(address__in=list(addresses))
            .values_list("address", "user__member"))
    members = Member.objects.in_bulk([member_id for _, member_id in rows])
    return {address: members[member_id] for address, member_id in rows}


# ---------------------------------------------------------------------------------------------- archive


def import_archive(path, *, category: Category, report: ImportReport, progress=None, store_files=True) -> None:
    box = google_export.open_archive(path)
    index = google_export.read_archive(box)
    report.entries, report.duplicates, report.category = index.entries, index.duplicates, category.name
    ids = [message.message_id for message in index.messages]
    imported = set(ImportedMessage.objects.filter(message_id__in=ids).values_list("message_id", flat=True))
    for message in index.messages:
        if message.automated:
            report.automated += 1
            if message.message_id not in imported:
                ImportedMessage.objects.create(
                    message_id=message.message_id, outcome=ImportedMessage.Outcome.AUTOMATED,
                    raw=google_export.storable_text(google_export.message_bytes(box, message.key)),
                )
    posts = [message for message in index.messages if not message.automated]
    referenced = {message_id for post in posts for message_id in (*post.in_reply_to, *post.references)}
    # Posts of this archive imported before, and earlier imports it answers: the parents of new posts.
    existing = {post.message_id: post for post in
                Post.objects.filter(message_id__in=referenced | set(ids)).only("id", "thread_id", "message_id")}
    conversations = google_export.thread_messages(posts, known_ids=set(existing))
    new = [post for post in posts if post.message_id not in imported]
    report.already_imported = len(posts) - len(new)
    authors = _resolve_authors(new, report)
    before = frozenset(existing)
    for done, conversation in enumerate(conversations, start=1):
        if any(post.message_id not in imported for post in conversation):
            with transaction.atomic():
                for post in conversation:
                    if post.message_id in imported:
                        continue
                    if post.parent_id in before:
                        report.replies_to_earlier_imports += 1
                    existing[post.message_id] = _import_post(
                            box, post, parent=existing.get(post.parent_id), author=authors[_author_key(post)],
                            category=category, report=report, store_files=store_files,
                        )
        if progress is not None:
            progress(done, len(conversations))


def _import_post(box, archived, *, parent, author, category, report, store_files) -> Post:
    raw = google_export.message_bytes(box, archived.key)
    message = google_export.parse_message(raw)
    files = google_export.message_files(message, archived.subject)
    report.attachments += len(files.accepted)
    report.attachments_refused += [f"{archived.message_id}: {reason}" for reason in files.left_out]
    fields = {"author": author, "body": google_export.display_text(message, archived.subject),
              "created_at": archived.date, "message_id": archived.message_id,
              "attachments": files.accepted if store_files else ()}
    if parent is None:
        post = create_imported_thread(category=category, title=archived.title, **fields)
        report.threads += 1
        if archived.title.lower().startswith(_DIGEST_TITLES):
            report.to_retitle.append(archived.title)
    else:
        post = create_imported_reply(parent=parent, **fields)
    ImportedMessage.objects.create(message_id=archived.message_id, raw=google_export.storable_text(raw),
                                   outcome=ImportedMessage.Outcome.POSTED, post=post)
    report.posts += 1
    return post


def _author_key(post) -> str:
    return post.author_email or f"name:{post.author_name}"


def _resolve_authors(posts, report: ImportReport) -> dict[str, Member]:
    """Who each new post belongs to, keyed by _author_key; each author in a transaction of its own."""
    names: dict[str, str] = {}
    for post in posts:
        key = _author_key(post)
        names[key] = names.get(key) or post.author_name
    addresses = [key for key in names if not key.startswith("name:")]
    accounts = _accounts_by_address(addresses)
    invitations = {invitation.email: invitation for invitation in
                   ListInvitation.objects.filter(email__in=addresses).select_related("placeholder", "claimed_by")}
    report.authors = len(names)
    authors = {}
    for key, name in names.items():
        with transaction.atomic():
            if key.startswith("name:"):
                report.authors_without_address += 1
                report.placeholders_created += 1
                authors[key] = create_placeholder(name or "(sender unknown)")
            else:
                authors[key] = _author(key, name, accounts.get(key), invitations.get(key), report)
    return authors


def _author(address: str, name: str, account, invitation, report: ImportReport) -> Member:
    if invitation is not None and invitation.source == ListInvitation.Source.MEMBER_LIST:
        report.authors_on_member_list += 1
    else:
        report.authors_archive_only += 1
    if account is not None:
        report.authors_with_account += 1
        if invitation is not None and invitation.claimed_by_id is None:
            _claim(invitation, account)
        return account
    if invitation is None:
        invitation = ListInvitation.objects.create(email=address, name=name, source=ListInvitation.Source.ARCHIVE)
    if invitation.claimed_by is not None:
        report.authors_with_account += 1
        return invitation.claimed_by
    if invitation.placeholder is None:
        invitation.placeholder = create_placeholder(invitation.name or name or address)
        invitation.save(update_fields=["placeholder"])
        report.placeholders_created += 1
    return invitation.placeholder


# ---------------------------------------------------------------------------------------------- claims


def _claim(invitation: ListInvitation, member: Member) -> int:
    placeholder = invitation.placeholder
    moved = reassign_posts(placeholder, member) if placeholder is not None else 0
    invitation.placeholder, invitation.claimed_by, invitation.claimed_at = None, member, timezone.now()
    invitation.save(update_fields=["placeholder", "claimed_by", "claimed_at"])
    if placeholder is not None:
        retire_placeholder(placeholder)
    return moved


@transaction.atomic
def claim_imported_posts(email_address_id: int) -> int:
    """An account verified an address: the imported posts written from it become the account's, and the
    address's invitation is marked claimed. Returns how many posts moved."""
    address = EmailAddress.objects.filter(pk=email_address_id, verified=True).first()
    member = address and Member.objects.filter(user_id=address.user_id).exclude(
        status=Member.Status.PLACEHOLDER).first()
    if member is None:
        return 0
    invitation = (ListInvitation.objects.select_for_update(of=("self",)).select_related("placeholder__user")
                  .filter(email=address.email.lower(), claimed_by__isnull=True).first())
    return _claim(invitation, member) if invitation is not None else 0


def apply_invitation_delivery(application_id: int) -> None:
    """An invited person was approved: the delivery they had in the group becomes their mail setting, unless
    they have one already (they chose it, or this ran before)."""
    application = (Application.objects.select_related("member__user")
                   .filter(pk=application_id, status=Application.Status.APPROVED).first())
    if application is None:
        return
    member = application.member
    addresses = [address.lower() for address in
                 member.user.emailaddress_set.filter(verified=True).values_list("email", flat=True)]
    invitation = (ListInvitation.objects.filter(claimed_by=member).first()
                  or ListInvitation.objects.filter(email__in=addresses, claimed_by__isnull=True).first())
    if invitation is not None and invitation.delivery in MailPreference.Mode.values:
        MailPreference.objects.get_or_create(member=member, defaults={"mode": invitation.delivery})


# ---------------------------------------------------------------------------------------------- invitations


def queue_invitations() -> int:
    """One invitation email for each person on the member list who has neither been invited nor arrived."""
    pending = list(ListInvitation.objects.filter(
        source=ListInvitation.Source.MEMBER_LIST, invited_at__isnull=True, claimed_by__isnull=True,
    ).values_list("pk", flat=True))
    for invitation_id in pending:
        transaction.on_commit(partial(_enqueue_invitation, invitation_id))
    return len(pending)


def _enqueue_invitation(invitation_id: int) -> None:
    from . import tasks  # tasks imports this module

    tasks.send_list_invitation.delay(invitation_id)


@transaction.atomic
def send_invitation(invitation_id: int) -> None:
    """Sent at most once: the row is locked and marked in the transaction that sends, so a duplicate task
    finds it marked, and a failed send leaves it unmarked for the retry."""
    invitation = (ListInvitation.objects.select_for_update()
                  .filter(pk=invitation_id, invited_at__isnull=True, claimed_by__isnull=True).first())
    if invitation is None:
        return
    post_count = Post.objects.filter(author_id=invitation.placeholder_id).count() if invitation.placeholder_id else 0
    body = render_to_string("mailer/email/invitation.txt", {
        "invitation": invitation, "list_name": settings.LIST_NAME, "post_count": post_count,
        "signup_url": f"{settings.SITE_URL}{reverse('account_signup')}",
    })
    EmailMessage(
        subject=f"{settings.LIST_NAME} is moving to HealTalk: apply to join", body=body, to=[invitation.email],
        headers={"Message-ID": make_msgid(domain=settings.LIST_DOMAIN), "Auto-Submitted": "auto-generated"},
    ).send()
    invitation.invited_at = timezone.now()
    invitation.save(update_fields=["invited_at"])
