"""The shared sample export imported once, then read: threads, parents, authors, words, files, placeholders,
and claiming them by verifying an address."""

import email
import re
import uuid
from email import policy
from email.utils import parsedate_to_datetime

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.db import transaction

from community.access import member_of
from community.models import EligibilityBasis, Member, User
from community.placeholders import is_placeholder_address
from community.services import ModerationError, reactivate_member, remove_member, suspend_member
from mailer import list_import
from mailer.models import ImportedMessage, ListInvitation
from threads.models import Category, Post, Thread

from .google_group_sample import (
    AUTO_REPLY_ID,
    EXPECTED_THREADS,
    EXPECTED_TITLES,
    FOOTER,
    INGRID,
    import_sample,
    needs_sample,
    post,
)

pytestmark = needs_sample
PASSWORD = "a-long-and-unusual-passphrase"


@pytest.fixture(scope="module")
def _sample_database(django_db_setup, django_db_blocker):
    """The sample imported once for the tests that only read it: each test runs in a savepoint inside this
    module's transaction, which is rolled back at the end."""
    with django_db_blocker.unblock(), transaction.atomic():
        import_sample()
        yield
        transaction.set_rollback(True)


@pytest.fixture
def imported(_sample_database, db):
    pass


def test_import_google_group_threads_have_titles_dates_and_counts(imported):
    category = Category.objects.get(name="HealTorture-Talk archive")
    for label, ids in EXPECTED_THREADS.items():
        root = post(ids[0])
        thread = root.thread
        dates = [post(message_id).created_at for message_id in ids]
        assert (thread.category, thread.title, thread.author) == (category, EXPECTED_TITLES[label], root.author)
        assert root.parent is None
        assert thread.post_count == len(ids) == thread.posts.count()
        assert thread.created_at == root.created_at == min(dates)
        assert thread.last_post_at == max(dates)


def test_import_google_group_posts_keep_date_message_id_and_original(imported):
    for imported_message in ImportedMessage.objects.filter(outcome=ImportedMessage.Outcome.POSTED):
        original = email.message_from_string(imported_message.raw, policy=policy.default)
        post = imported_message.post
        assert post.message_id == imported_message.message_id == original["Message-ID"]
        assert post.created_at == parsedate_to_datetime(original["Date"])
        assert post.source == Post.Source.IMPORT
        assert FOOTER in original.get_body(("plain", "html")).get_content()
        assert FOOTER not in post.body and FOOTER not in post.html
        assert "googlegroups.com/d/optout" not in post.body
        assert not re.search(r"^>", post.body, re.MULTILINE), post.message_id
        assert "[cid:" not in post.body
    assert not User.objects.filter(email__icontains="googlegroups.com").exists()
    assert not Member.objects.filter(full_name__contains=" via ").exists()


def test_import_google_group_skips_the_auto_reply_and_the_repeated_copy(imported):
    skipped = ImportedMessage.objects.get(message_id=AUTO_REPLY_ID)
    assert (skipped.outcome, skipped.post) == (ImportedMessage.Outcome.AUTOMATED, None)
    assert "Automatic reply" in skipped.raw
    assert not Post.objects.filter(message_id=AUTO_REPLY_ID).exists()
    assert Post.objects.filter(message_id="<CAQMPm1TDOG1eF6Jx9g9SqBCiPrMlTaD353LkWK7mSanGkGirvs@mail.gmail.com>") \
        .count() == 1


HARD_PARENTS = [
    # No In-Reply-To or References (a phone): joins T13 by its subject, under the root.
    ("<6C7D1B81-9804-2864-3C60-7DCCE4E2CA5B@mesa.example.org>",
     "<CAKgtfGCaLyIdDfx8dQJ2tsFN71vWK646AAGlWQE4eb8iDz7hvY@mail.gmail.com>"),
    # References only (GroupWise): under the last known id, Hannah's post.
    ("<90C96E8868DB80ABAD3A5312@prairie.example.net>", "<c4d86e86-310c-447a-acd3-5a2201c6b93f@googlegroups.com>"),
    # Its parent is not in the export: under the root it also names.
    ("<9391E022C55F44D90E60919D0D3B9A83@NSMAIL02.northstar.example.com>",
     "<B2F80ECBCFC3506481D6DE337747D6F3@NSMAIL02.northstar.example.com>"),
    # Dated 2½ minutes before its parent: still its child.
    ("<64E5D0BFF99A5791A1BC9DB575760D3F@NSMAIL02.northstar.example.com>",
     "<9391E022C55F44D90E60919D0D3B9A83@NSMAIL02.northstar.example.com>"),
    # Changed subject ("… (was: …)"): In-Reply-To wins.
    ("<14391CA4AFD5B9BAEAEA7CCB3B3C00F4@EXCH01.riverbend.example.org>",
     "<CAP01zl5jM1aPgqRlCEFUlvPj01HMu5kK4qqpJYcQCdn6LXxkwR@mail.gmail.com>"),
    # "RE: Re: Fwd:" from Outlook under the "Re: Fwd:" reply.
    ("<B96818E2B73B04428E83858041ADE013@EXCH01.riverbend.example.org>",
     "<CAAp9jn+YRx2Ki2sS6rcCgsoDnEBQu6R5b8ONGNxVtppmqFjZfv@mail.gmail.com>"),
]


def test_import_google_group_rebuilds_hard_parents(imported):
    for child, parent in HARD_PARENTS:
        assert post(child).parent == post(parent), child


def test_import_google_group_early_reply_stays_a_child(imported):
    early = post("<64E5D0BFF99A5791A1BC9DB575760D3F@NSMAIL02.northstar.example.com>")
    assert early.created_at < early.parent.created_at


def test_import_google_group_digest_reply_and_same_subject_years_apart_are_threads_of_their_own(imported):
    digest_reply = post("<CAQnYaf70PmEbVNC8naQx8lvsOVKCbPz2GZEawlX8ALa8HkC1Fe@mail.gmail.com>")
    assert digest_reply.parent is None and digest_reply.thread.post_count == 1
    assert Thread.objects.filter(title="Resources for new staff").count() == 2


REAL_AUTHORS = [
    # From: rewritten to "'Priya Raman' via HealTorture-Talk" <the group>.
    ("<BN8PR16MB427946A0274AE3C5C4CA5423@BN8PR16MB4279.namprd12.prod.outlook.com>", "Priya Raman",
     "priya.raman@lakeshore.example.com"),
    # The rewritten From: is itself RFC 2047 base64.
    ("<BN6PR15MB319105648993335769398A83@BN6PR15MB3191.namprd11.prod.outlook.com>", "Thu Linh Phạm",
     "tlpham@lakeshore.example.com"),
    ("<CAP01zl5jM1aPgqRlCEFUlvPj01HMu5kK4qqpJYcQCdn6LXxkwR@mail.gmail.com>", "María Elena Cárdenas",
     "mecardenas@mesa.example.org"),
    ("<90C96E8868DB80ABAD3A5312@prairie.example.net>", "Zoë Lindqvist", "zlindqvist@prairie.example.net"),
    # Another case than the member list's, and two member-list rows of one person merged.
    ("<B96818E2B73B04428E83858041ADE013@EXCH01.riverbend.example.org>", "Tom Reinholt",
     "treinholt@riverbend.example.org"),
    ("<BN3PR10MB4647456F88E346C87FB9D8DC@BN3PR10MB4647.namprd12.prod.outlook.com>", "Ali Rahimi",
     "a.rahimi@lakeshore.example.com"),
    # A bare address (a web post): the name comes from the member list.
    ("<ddd8d8a8-2cb4-48dd-96f0-a0d13e8f954e@googlegroups.com>", "Marisol Vega", "mvega@prairie.example.net"),
]


def test_import_google_group_finds_the_real_author(imported):
    for message_id, name, address in REAL_AUTHORS:
        author = post(message_id).author
        assert (author.full_name, author.status) == (name, Member.Status.PLACEHOLDER), message_id
        assert ListInvitation.objects.get(email=address).placeholder == author
        assert Post.objects.filter(author__full_name=name).values("author").distinct().count() == 1


def test_import_google_group_keeps_an_author_who_left_as_a_named_placeholder(imported):
    invitation = ListInvitation.objects.get(email=INGRID)
    placeholder = invitation.placeholder
    assert (invitation.source, invitation.name) == (ListInvitation.Source.ARCHIVE, "Ingrid Solberg")
    assert (placeholder.full_name, placeholder.status) == ("Ingrid Solberg", Member.Status.PLACEHOLDER)
    assert sorted(placeholder.posts.values_list("thread__title", flat=True)) == [
        EXPECTED_TITLES["T08"], EXPECTED_TITLES["T11"],
    ]


def test_placeholder_can_never_sign_in_or_receive_mail(imported, client):
    placeholder = ListInvitation.objects.get(email=INGRID).placeholder
    user = placeholder.user
    assert is_placeholder_address(user.email) and user.email.endswith(".invalid")
    assert not user.has_usable_password() and not user.is_active
    assert not EmailAddress.objects.filter(user=user).exists()  # so no password reset either
    assert member_of(user) is None
    assert not client.login(email=user.email, password="")
    client.post("/accounts/password/reset/", {"email": user.email})
    assert not any("/accounts/password/reset/key/" in message.body for message in mail.outbox)


OWN_WORDS = [
    # mboxo: the exporter wrote ">From the medical side"; Python's mailbox leaves the ">".
    ("<BN4PR14MB17091BA02AE4CC34280EAF08@BN4PR14MB1709.namprd10.prod.outlook.com>",
     "From the medical side, the biggest gain", ">From"),
    # 8-bit ISO-8859-1 Outlook 2010 with "-----Original Message-----".
    ("<01A4F17568798F1A4A4CFFB05B78F675@MESA-EX1.mesa.example.org>", "José Peña-Ramírez, case manager",
     "Original Message"),
    # windows-1252 quoted-printable.
    ("<DA0D4011CEA5E04E1E043F5FF6096EEA@EXCH01.riverbend.example.org>",
     "Kevin – we use a short “interpreter agreement”", "On Behalf Of"),
    # HTML only.
    ("<EA9D57A53A63C3E611243763C652B917@NSMAIL02.northstar.example.com>",
     "- Explain that the interpreter is not a cultural expert witness", "<p"),
    # base64 text, the late-2019 three-line footer.
    ("<BN5PR17MB2640F2202C03B2F08EBCA8A7@BN5PR17MB2640.namprd18.prod.outlook.com>",
     "how are programs tracking chronic pain over time?", "To view this discussion"),
    # Thunderbird format=flowed, bottom-posted: the quote above the answer goes.
    ("<cf2e6a94-d925-9250-c56e-31824c074145@cascade.example.org>", "Samuel, six to eight weeks is typical",
     "what turnaround do you see"),
    # GroupWise ">>> Name <address> date >>>" over an unquoted original.
    ("<90C96E8868DB80ABAD3A5312@prairie.example.net>", "Attendance went from about half", "On screening"),
    # The Google Groups web form's attribution.
    ("<c4d86e86-310c-447a-acd3-5a2201c6b93f@googlegroups.com>", "On screening: we always meet",
     "Welcome to the e-consultation"),
    # Gmail's attribution wrapped over two lines.
    ("<CAYTpMZzafyHlyO4laxar8Npvmtmc4FgUJTJg4fA3mbfGloXEpI@mail.gmail.com>", "Tom's point 4 resonates",
     "Weekly group consultation"),
    # Outlook's "From: … On Behalf Of … / Sent:" block.
    ("<BN3PR17MB1752A6CB1D204A2152127250@BN3PR17MB1752.namprd17.prod.outlook.com>",
     "Case manager perspective", "Tom's point 4"),
    # A forward starting a thread: what it forwards is its content.
    ("<CAJwWnpUoUGvzKtRZLlrOPirTQ2rB2IjNodarE0PdTkzwTI6Y32@mail.gmail.com>",
     "---------- Forwarded message ----------", FOOTER),
]


def test_import_google_group_shows_the_authors_own_words(imported):
    for message_id, present, absent in OWN_WORDS:
        body = post(message_id).body
        assert present in body, message_id
        assert absent not in body, message_id


def test_import_google_group_forward_keeps_what_it_forwards(imported):
    body = post("<CAJwWnpUoUGvzKtRZLlrOPirTQ2rB2IjNodarE0PdTkzwTI6Y32@mail.gmail.com>").body
    assert "Group Work with Survivors of Torture\nWednesday, June 22, 2016" in body


def test_import_google_group_keeps_the_pdf_and_the_inline_image(imported, member_client):
    [pdf] = post("<CASBf4Gf3I9On3RIKR9QTANfWvjDr16SFKpbBnNFBxu-1fMQqYx@mail.gmail.com>").attachments.all()
    assert (pdf.original_name, pdf.content_type, pdf.size) == ("Complex Care – five domains.pdf",
                                                               "application/pdf", 1093)
    assert pdf.file.read().startswith(b"%PDF-1.4")
    flyer = post("<BN4PR11MB1133B153A6FF2151E24CB5EC@BN4PR11MB1133.namprd16.prod.outlook.com>")
    [image] = flyer.attachments.all()
    assert (image.original_name, image.content_type) == ("image001.png", "image/png")
    assert image.file.read().startswith(b"\x89PNG")
    assert pdf.uploaded_by == pdf.post.author

    page = member_client.get(flyer.thread.get_absolute_url()).content.decode()
    image_url = f"/attachments/{image.id}/image001.png"
    assert f'<img class="attachment-image" src="{image_url}"' in page
    assert "[cid:" not in page
    response = member_client.get(image_url)
    assert (response.status_code, response["Content-Type"]) == (200, "image/png")


@pytest.fixture
def signup_form(organization):
    def make(email, full_name):
        return {
            "full_name": full_name, "email": email, "eligibility_category": EligibilityBasis.ORR_TVRA_GRANTEE,
            "organization": "", "organization_name": "Former Program", "organization_website": "https://example.com",
            "role_title": "Program director", "statement": "I led a program that served survivors for ten years.",
            "password1": PASSWORD, "password2": PASSWORD, "accept_guidelines": "on", "confidentiality_pledge": "on",
        }

    return make


def sign_up_and_confirm(client, form, mailoutbox, capture) -> Member:
    response = client.post("/accounts/signup/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    link = re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^/\s]+/)", mailoutbox[-1].body).group(1)
    with capture(execute=True):
        client.post(link)
    return Member.objects.get(user__email=form["email"])


def test_claim_imported_posts_when_the_address_is_verified(imported, client, signup_form, mailoutbox,
                                                          django_capture_on_commit_callbacks):
    invitation = ListInvitation.objects.get(email=INGRID)
    placeholder = invitation.placeholder
    her_posts = set(placeholder.posts.values_list("pk", flat=True))

    ingrid = sign_up_and_confirm(client, signup_form(INGRID, "Ingrid Solberg"), mailoutbox,
                                 django_capture_on_commit_callbacks)

    assert set(ingrid.posts.values_list("pk", flat=True)) == her_posts and len(her_posts) == 2
    invitation.refresh_from_db()
    assert (invitation.claimed_by, invitation.placeholder) == (ingrid, None)
    assert invitation.claimed_at is not None
    assert not Member.objects.filter(pk=placeholder.pk).exists()
    assert not User.objects.filter(pk=placeholder.user_id).exists()
    assert ingrid.status == Member.Status.PENDING  # claiming posts is not joining


def test_claim_imported_posts_of_another_address_moves_nothing(imported, member_factory):
    other = member_factory(email="someone.else@cascade.example.org")
    address = EmailAddress.objects.get(user=other.user)

    assert list_import.claim_imported_posts(address.pk) == 0
    assert ListInvitation.objects.get(email=INGRID).placeholder.posts.count() == 2


def test_claim_imported_posts_needs_a_verified_address(imported, member_factory):
    ingrid = member_factory(email=f"ingrid-{uuid.uuid4().hex[:6]}@cascade.example.org")
    unverified = EmailAddress.objects.create(user=ingrid.user, email=INGRID, verified=False)

    assert list_import.claim_imported_posts(unverified.pk) == 0
    assert ListInvitation.objects.get(email=INGRID).claimed_by is None




def test_imported_post_page_says_where_it_was_written(imported, member_client):
    flyer = post("<BN4PR11MB1133B153A6FF2151E24CB5EC@BN4PR11MB1133.namprd16.prod.outlook.com>")

    page = member_client.get(flyer.thread.get_absolute_url()).content.decode()

    assert page.count("in the Google Group") == 2
    # A placeholder is no member, so no handle names it.
    assert "@priya.raman" not in page


def test_placeholder_cannot_be_suspended_removed_or_reactivated(imported, moderator):
    placeholder = ListInvitation.objects.get(email=INGRID).placeholder

    for action in (remove_member, suspend_member, reactivate_member):
        with pytest.raises(ModerationError, match="not an account"):
            action(placeholder, moderator, "Tidying up")

    placeholder.refresh_from_db()
    assert (placeholder.status, placeholder.user.is_active) == (Member.Status.PLACEHOLDER, False)
