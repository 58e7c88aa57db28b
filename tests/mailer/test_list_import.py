"""The Google Group import run on the shared sample export: numbers, re-runs, the member list, invitations and
what happens when invited people arrive."""

import smtplib
import time
from datetime import UTC, datetime

import pytest
from allauth.account.models import EmailAddress
from django.core.mail.backends import locmem
from django.core.management import CommandError

from community.celery import app as celery_app
from community.models import Application, EligibilityBasis, Member, User
from community.services import approve_application
from mailer import list_import
from mailer.models import ListInvitation, MailPreference, OutboundMessage
from threads.models import Category, LiveEvent, Mention, Post, Thread

from .google_group_sample import (
    EXPECTED_THREADS,
    INGRID,
    MBOX,
    MEMBERS,
    counts,
    import_sample,
    needs_sample,
    run,
    thread_ids,
)

pytestmark = needs_sample
PASSWORD = "a-long-and-unusual-passphrase"


def test_import_google_group_twice_gives_the_sample_readme_numbers(
    db, member, mailoutbox, django_capture_on_commit_callbacks
):
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        first, progress = run("--mbox", str(MBOX), "--members", str(MEMBERS))
    seconds = time.monotonic() - started
    after_first = counts()
    with django_capture_on_commit_callbacks(execute=True):
        second, _ = run("--mbox", str(MBOX), "--members", str(MEMBERS))

    assert thread_ids() == {frozenset(ids) for ids in EXPECTED_THREADS.values()}
    assert after_first == counts()
    assert after_first["posts"] == Post.objects.filter(source=Post.Source.IMPORT).count() == 60
    assert after_first["threads"] == 15
    assert after_first["imported"] == 61  # 60 posts and the auto-reply
    assert after_first["attachments"] == 2
    assert ListInvitation.objects.filter(source=ListInvitation.Source.MEMBER_LIST).count() == 40
    assert list(ListInvitation.objects.filter(source=ListInvitation.Source.ARCHIVE).values_list("email", flat=True)) \
        == [INGRID]
    assert Member.objects.filter(status=Member.Status.PLACEHOLDER).count() == 28
    assert "62 messages, 1 repeated (imported once), 1 automatic replies skipped, 0 imported before" in first
    assert "Imported 60 posts in 15 new threads (category “HealTorture-Talk archive”)" in first
    assert "Authors of new posts: 28 — 27 on the member list, 1 only in the archive, 0 with an account here; " \
           "28 new placeholders" in first
    assert "Attachments kept: 2." in first
    assert "Member list: 41 rows, 40 new invitations, 0 updated." in first
    assert "Worth a new title (a reply to a Google digest): “Digest for healtorture-talk@googlegroups.com" in first
    assert "15/15" in progress
    assert "60 imported before" in second
    assert "Imported 0 posts in 0 new threads" in second
    assert "Member list: 41 rows, 0 new invitations, 0 updated." in second
    # Nothing was published: no list mail to the member who wants every message, no live events, no mentions.
    assert mailoutbox == []
    assert not OutboundMessage.objects.exists()
    assert not LiveEvent.objects.exists()
    assert not Mention.objects.exists()
    assert seconds < 20, f"the sample took {seconds:.1f} s"


def test_import_members_csv_makes_invitations_not_accounts(db):
    users = User.objects.count()
    out, _ = run("--members", str(MEMBERS))

    invitations = {invitation.email: invitation for invitation in ListInvitation.objects.all()}
    assert len(invitations) == 40
    assert User.objects.count() == users  # nobody is a member until they apply and are approved
    assert {role: sum(i.group_role == role for i in invitations.values()) for role in ("owner", "manager", "member")} \
        == {"owner": 2, "manager": 3, "member": 35}
    modes = [invitation.delivery for invitation in invitations.values()]
    assert {mode: modes.count(mode) for mode in set(modes)} == {"each": 24, "daily": 12, "none": 4}
    assert sorted(email for email, i in invitations.items() if not i.name) == [
        "clinicalteam@harborlight.example.net", "intake@prairie.example.net", "ohaidari.sw@gmail.com",
    ]
    assert invitations["rstoll@cascade.example.org"].name == "Rebecca Stoll, MD"
    assert invitations["tlpham@lakeshore.example.com"].name == "Thu Linh Phạm"
    assert [email for email, i in invitations.items() if not i.posting_allowed] == [
        "clinicalteam@harborlight.example.net"]
    assert invitations["dana.whitfield@healtorture.example.org"].joined_group_at == datetime(
        2012, 3, 5, 15, 14, 7, tzinfo=UTC)  # 10:14:07 Eastern Standard Time
    ali = invitations["a.rahimi@lakeshore.example.com"]
    assert (ali.name, ali.group_role, ali.delivery) == ("Ali Rahimi", "member", "daily")
    assert ali.joined_group_at == datetime(2018, 5, 21, 14, 32, 17, tzinfo=UTC)  # the earlier row, EDT
    assert all(i.source == ListInvitation.Source.MEMBER_LIST and i.placeholder is None for i in invitations.values())
    assert "Member list: 41 rows, 40 new invitations" in out


def test_import_members_csv_reads_other_layouts_by_column_name(db, tmp_path):
    export = tmp_path / "members.csv"
    export.write_bytes(
        "\ufeffEmail address,Group status,Nickname,Email preference,Posting permissions,Time zone\r\n"
        "Owner.One@Example.org,Owner,Olga One,All email,Allowed,\r\n"
        "pending@example.org,Pending,,Abridged,Not allowed,\r\n"
        "odd@example.org,Chaperone,Odd Person,Whenever,Sometimes,Mars Time\r\n".encode()
    )

    run("--members", str(export))

    rows = ListInvitation.objects.values_list("email", "name", "group_role", "delivery", "posting_allowed",
                                              "joined_group_at")
    assert sorted(rows) == [
        ("odd@example.org", "Odd Person", "chaperone", "", True, None),
        ("owner.one@example.org", "Olga One", "owner", "each", True, None),
        ("pending@example.org", "", "pending", "daily", False, None),
    ]


def test_import_google_group_refuses_a_file_that_is_not_a_member_export(db, tmp_path):
    other = tmp_path / "other.csv"
    other.write_text("name,address\nA,a@example.org\n")
    with pytest.raises(CommandError, match="Email address"):
        run("--members", str(other))


def test_import_google_group_author_with_an_account_gets_the_posts_directly(db, member_factory):
    priya = member_factory(email="Priya.Raman@lakeshore.example.com", full_name="Priya Raman")

    out = import_sample()

    assert Post.objects.filter(author=priya).count() == 2
    assert Thread.objects.filter(author=priya).count() == 2
    invitation = ListInvitation.objects.get(email="priya.raman@lakeshore.example.com")
    assert (invitation.claimed_by, invitation.placeholder) == (priya, None)
    assert not Member.objects.filter(status=Member.Status.PLACEHOLDER, full_name="Priya Raman").exists()
    assert "1 with an account here; 27 new placeholders" in out


def test_import_google_group_stopped_half_way_is_run_again(db, monkeypatch):
    real = list_import.create_imported_reply
    calls = {"count": 0}

    def crashing(**fields):
        calls["count"] += 1
        if calls["count"] == 20:
            raise RuntimeError("the server went away")
        return real(**fields)

    monkeypatch.setattr(list_import, "create_imported_reply", crashing)
    with pytest.raises(RuntimeError):
        import_sample()
    done = Thread.objects.count()
    assert 0 < done < 15
    assert all(thread.posts.count() == thread.post_count for thread in Thread.objects.all())

    monkeypatch.setattr(list_import, "create_imported_reply", real)
    import_sample()

    assert thread_ids() == {frozenset(ids) for ids in EXPECTED_THREADS.values()}
    assert Member.objects.filter(status=Member.Status.PLACEHOLDER).count() == 28


def test_import_google_group_dry_run_saves_nothing(db):
    before = counts()
    out = import_sample("--dry-run")

    assert counts() == before
    assert out.startswith("Dry run: nothing was saved.")
    assert "Imported 60 posts in 15 new threads" in out
    assert "40 new invitations" in out


def test_import_google_group_into_a_chosen_category(db, category):
    run("--mbox", str(MBOX), "--category", category.slug)

    assert set(Thread.objects.values_list("category", flat=True)) == {category.pk}
    assert not Category.objects.filter(name="HealTorture-Talk archive").exists()
    with pytest.raises(CommandError, match="No category"):
        run("--mbox", str(MBOX), "--category", "no-such-category")


@pytest.fixture
def invited_applicant(organization):
    """Dana, on the group's member list with every-message delivery, applied here with that address."""

    def make(preference=None):
        user = User.objects.create_user(email="dana.whitfield@healtorture.example.org", password=PASSWORD)
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
        member = Member.objects.create(user=user, full_name="Dana Whitfield", organization=organization)
        if preference:
            MailPreference.objects.create(member=member, mode=preference)
        return Application.objects.create(
            member=member, eligibility_category=EligibilityBasis.ORR_TVRA_GRANTEE, organization=organization,
            role_title="TA coordinator", work_email=user.email, statement="I coordinate training.",
        )

    return make


def test_apply_invitation_delivery_when_an_invited_person_is_approved(
    db, invited_applicant, moderator, django_capture_on_commit_callbacks, mailoutbox
):
    run("--members", str(MEMBERS))
    application = invited_applicant()

    with django_capture_on_commit_callbacks(execute=True):
        approve_application(application, moderator)

    assert MailPreference.objects.get(member=application.member).mode == MailPreference.Mode.EACH
    [welcome] = mailoutbox
    assert MailPreference.Mode.EACH.label in welcome.body


def test_apply_invitation_delivery_keeps_a_choice_already_made(
    db, invited_applicant, moderator, django_capture_on_commit_callbacks
):
    run("--members", str(MEMBERS))
    application = invited_applicant(preference=MailPreference.Mode.WEEKLY)

    with django_capture_on_commit_callbacks(execute=True):
        approve_application(application, moderator)

    assert MailPreference.objects.get(member=application.member).mode == MailPreference.Mode.WEEKLY


def test_apply_invitation_delivery_leaves_people_who_were_not_invited(
    db, applicant_factory, moderator, django_capture_on_commit_callbacks
):
    run("--members", str(MEMBERS))
    applicant = applicant_factory(full_name="New Person")
    MailPreference.objects.filter(member=applicant).delete()

    with django_capture_on_commit_callbacks(execute=True):
        approve_application(applicant.applications.get(), moderator)

    assert not MailPreference.objects.filter(member=applicant).exists()


class FlakyBackend(locmem.EmailBackend):
    """A mail server that refuses the first message it is given, then works."""

    refused = 0

    def send_messages(self, messages):
        if FlakyBackend.refused == 0:
            FlakyBackend.refused += 1
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)


def test_queue_invitations_invites_each_person_once(db, member_factory, mailoutbox, settings,
                                                    django_capture_on_commit_callbacks):
    member_factory(email="dana.whitfield@healtorture.example.org")  # already here: not invited
    settings.EMAIL_BACKEND = f"{__name__}.FlakyBackend"
    FlakyBackend.refused = 0
    celery_app.conf.task_eager_propagates = False  # so eager apply() runs the retry in turn

    with django_capture_on_commit_callbacks(execute=True):
        out, _ = run("--mbox", str(MBOX), "--members", str(MEMBERS), "--invite")
    with django_capture_on_commit_callbacks(execute=True):
        run("--invite")

    assert FlakyBackend.refused == 1
    recipients = sorted(address for message in mailoutbox for address in message.to)
    assert len(recipients) == 39 == len(set(recipients))
    assert "dana.whitfield@healtorture.example.org" not in recipients
    assert INGRID not in recipients  # she left the group; her posts wait for her all the same
    assert not ListInvitation.objects.filter(source=ListInvitation.Source.MEMBER_LIST, claimed_by__isnull=True,
                                             invited_at__isnull=True).exists()
    assert "Invitations to apply: 39 queued." in out
    [to_priya] = [message for message in mailoutbox if message.to == ["priya.raman@lakeshore.example.com"]]
    assert to_priya.body.startswith("Dear Priya Raman,")
    assert "http://testserver/accounts/signup/" in to_priya.body
    assert "your 2 posts under your name" in to_priya.body
    assert to_priya.content_subtype == "plain" and not getattr(to_priya, "alternatives", None)
    [to_intake] = [message for message in mailoutbox if message.to == ["intake@prairie.example.net"]]
    assert to_intake.body.startswith("Hello,")
    assert "posts under your name" not in to_intake.body


def mbox_entry(headers: str, body: str, envelope_date: str = "Wed Feb 10 00:20:44 +0000 2016") -> str:
    return f"From 29101272880006@xxx {envelope_date}\n{headers.strip()}\n\n{body.strip()}\n\n"


def test_import_google_group_reads_messages_without_id_date_or_original_from(db, tmp_path):
    archive = tmp_path / "topics.mbox"
    archive.write_text(
        mbox_entry(
            "From: \"'Pat Doe' via HealTorture-Talk\" <healtorture-talk@googlegroups.com>\n"
            "X-Original-Sender: Pat.Doe@example.org\nSubject: Housing lists\n"
            "Content-Type: multipart/mixed; boundary=\"b\"",
            "--b\nContent-Type: text/plain\n\nDoes anyone keep a list of landlords?\n\n"
            "--b\nContent-Type: application/octet-stream; name=\"list.exe\"\n"
            "Content-Disposition: attachment; filename=\"list.exe\"\nContent-Transfer-Encoding: base64\n\n"
            "TVqQAAMAAAAEAAAA\n--b--",
        )
        + mbox_entry("From: Pat Doe <pat.doe@example.org>\nDate: not a date\n"
                     "Message-ID: <second@example.org>\nSubject: Re: Housing lists", "We keep one, yes."),
    )

    out, _ = run("--mbox", str(archive))
    again, _ = run("--mbox", str(archive))

    [opening, reply] = Post.objects.order_by("created_at", "id")
    assert opening.message_id.endswith("@no-message-id.invalid>")
    assert (opening.author.full_name, reply.author) == ("Pat Doe", opening.author)
    assert ListInvitation.objects.get().email == "pat.doe@example.org"
    assert reply.parent == opening  # by subject: "Re:" and the same subject
    assert reply.created_at == opening.created_at == datetime(2016, 2, 10, 0, 20, 44, tzinfo=UTC)  # envelope
    assert not opening.attachments.exists()
    assert "list.exe" in out and "Attachments kept: 0." in out
    assert "Imported 0 posts" in again


def test_import_google_group_continues_a_thread_of_an_earlier_archive(db, tmp_path):
    import_sample()
    last = EXPECTED_THREADS["T15"][-1]
    later = tmp_path / "later.mbox"
    later.write_text(mbox_entry(
        f"From: Rebecca Stoll <rstoll@cascade.example.org>\nDate: Mon, 02 Dec 2019 10:00:00 -0500\n"
        f"Message-ID: <later@cascade.example.org>\nIn-Reply-To: {last}\nReferences: {last}\n"
        "Subject: RE: Biomedical domain: tracking chronic pain outcomes",
        "An update: the pilot started.",
    ))

    out, _ = run("--mbox", str(later))

    reply = Post.objects.get(message_id="<later@cascade.example.org>")
    assert reply.parent.message_id == last
    assert reply.thread.post_count == 5 and reply.thread.last_post_at == reply.created_at
    assert reply.author == Post.objects.get(message_id=last).author
    assert "Imported 1 posts in 0 new threads (category “HealTorture-Talk archive”), 1 replies to earlier imports." \
        in out
