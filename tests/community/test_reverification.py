import re
import time
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress, EmailConfirmationHMAC
from django.core import signing
from django.utils import timezone

from community.membership import confirmation_path, member_for_confirmation, run_reverification
from community.models import Application, AuditRecord, Member
from mailer import tasks
from tests.conftest import login

NOW = timezone.now()
CONFIRM_LINK = re.compile(r"http://testserver(/application/confirm/[^/\s\"]+/)")


def verified_days_ago(member, days, *, now=NOW):
    member.verified_at = now - timedelta(days=days)
    member.save(update_fields=["verified_at"])
    return member


@pytest.fixture
def due_member(member):
    return verified_days_ago(member, 366)


def run(now, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return run_reverification(now=now)


def confirming(message) -> Member:
    """The member the email's one confirmation link (the same in text and HTML) confirms."""
    links = set(CONFIRM_LINK.findall(message.body))
    links |= set(CONFIRM_LINK.findall(message.alternatives[0][0]))
    assert len(links) == 1, links
    return member_for_confirmation(links.pop().split("/")[-2])


def test_run_reverification_sends_first_reminder_when_a_year_has_passed(
    member_factory, due_member, mailoutbox, django_capture_on_commit_callbacks
):
    recent = verified_days_ago(member_factory(), 300)

    result = run(NOW, django_capture_on_commit_callbacks)

    assert (result.first_reminders, result.second_reminders, result.lapsed) == (1, 0, 0)
    assert [message.to for message in mailoutbox] == [[due_member.email]]
    assert "confirm" in mailoutbox[0].subject.lower()
    assert "I still work at Cascade Center for Survivors" in mailoutbox[0].body
    assert confirming(mailoutbox[0]) == due_member
    due_member.refresh_from_db()
    assert (due_member.reverification_reminders_sent, due_member.last_reminder_at) == (1, NOW)
    recent.refresh_from_db()
    assert recent.reverification_reminders_sent == 0


def test_run_reverification_counts_from_approval_then_signup_when_never_confirmed(
    member_factory, mailoutbox, django_capture_on_commit_callbacks
):
    approved_long_ago = member_factory(full_name="Approved Long Ago")
    approved_long_ago.joined_at = NOW - timedelta(days=400)
    approved_long_ago.save()
    approved_recently = member_factory(full_name="Approved Recently")
    approved_recently.created_at = NOW - timedelta(days=400)
    approved_recently.joined_at = NOW - timedelta(days=20)
    approved_recently.save()
    signed_up_long_ago = member_factory(full_name="Signed Up Long Ago")
    signed_up_long_ago.created_at = NOW - timedelta(days=400)
    signed_up_long_ago.save()

    run(NOW, django_capture_on_commit_callbacks)

    assert sorted(message.to[0] for message in mailoutbox) == sorted(
        [approved_long_ago.email, signed_up_long_ago.email]
    )


def test_run_reverification_does_not_repeat_a_reminder(due_member, mailoutbox, django_capture_on_commit_callbacks):
    run(NOW, django_capture_on_commit_callbacks)
    run(NOW + timedelta(hours=6), django_capture_on_commit_callbacks)
    run(NOW + timedelta(days=14), django_capture_on_commit_callbacks)

    assert len(mailoutbox) == 1


def test_run_reverification_sends_second_reminder_after_15_days(
    due_member, mailoutbox, django_capture_on_commit_callbacks
):
    run(NOW, django_capture_on_commit_callbacks)

    result = run(NOW + timedelta(days=15), django_capture_on_commit_callbacks)

    assert result.second_reminders == 1
    assert len(mailoutbox) == 2
    assert mailoutbox[1].subject.startswith("Reminder")
    due_member.refresh_from_db()
    assert due_member.reverification_reminders_sent == 2
    assert due_member.status == Member.Status.ACTIVE


def test_run_reverification_lapses_membership_30_days_after_first_reminder(
    due_member, mailoutbox, django_capture_on_commit_callbacks
):
    run(NOW, django_capture_on_commit_callbacks)
    run(NOW + timedelta(days=15), django_capture_on_commit_callbacks)
    run(NOW + timedelta(days=29), django_capture_on_commit_callbacks)
    due_member.refresh_from_db()
    assert due_member.status == Member.Status.ACTIVE

    result = run(NOW + timedelta(days=30), django_capture_on_commit_callbacks)

    assert result.lapsed == 1
    due_member.refresh_from_db()
    assert due_member.status == Member.Status.LAPSED
    audit = AuditRecord.objects.get(action="member_lapsed")
    assert (audit.actor, audit.subject) == (None, due_member)
    assert len(mailoutbox) == 3
    assert mailoutbox[2].subject == "Your HealTalk membership is paused"
    assert confirming(mailoutbox[2]) == due_member


def test_run_reverification_starts_over_after_a_moderator_verified_the_member(
    due_member, mailoutbox, django_capture_on_commit_callbacks
):
    # Reminded twice in an earlier year, then approved by a moderator who left the reminder count alone.
    Member.objects.filter(pk=due_member.pk).update(
        reverification_reminders_sent=2, last_reminder_at=NOW - timedelta(days=400)
    )

    result = run(NOW, django_capture_on_commit_callbacks)

    assert (result.first_reminders, result.second_reminders, result.lapsed) == (1, 0, 0)
    assert not mailoutbox[0].subject.startswith("Reminder")
    due_member.refresh_from_db()
    assert (due_member.status, due_member.reverification_reminders_sent) == (Member.Status.ACTIVE, 1)


def test_run_reverification_skips_members_who_are_not_active(
    member_factory, mailoutbox, django_capture_on_commit_callbacks
):
    for status in (Member.Status.SUSPENDED, Member.Status.DEPARTED, Member.Status.PENDING):
        verified_days_ago(member_factory(status=status), 400)

    run(NOW, django_capture_on_commit_callbacks)

    assert mailoutbox == []


@pytest.mark.parametrize("count", [1, 20])
def test_run_reverification_query_count_is_constant(count, member_factory, django_assert_num_queries):
    for _ in range(count):
        verified_days_ago(member_factory(), 366)
        second = verified_days_ago(member_factory(), 400)
        lapsing = verified_days_ago(member_factory(), 430)
        fortnight_ago = NOW - timedelta(days=15)
        Member.objects.filter(pk=second.pk).update(reverification_reminders_sent=1, last_reminder_at=fortnight_ago)
        Member.objects.filter(pk=lapsing.pk).update(reverification_reminders_sent=2, last_reminder_at=fortnight_ago)

    # A savepoint, three claims, the lapse, its audit records, the two reminder counts, the release.
    with django_assert_num_queries(9):
        result = run_reverification(now=NOW)

    assert (result.first_reminders, result.second_reminders, result.lapsed) == (count, count, count)


def test_run_reverification_works_in_batches(member_factory, django_capture_on_commit_callbacks):
    for _ in range(5):
        verified_days_ago(member_factory(), 366)

    with django_capture_on_commit_callbacks(execute=False):
        result = run_reverification(now=NOW, batch_size=2)

    assert result.first_reminders == 5
    assert not Member.objects.filter(reverification_reminders_sent=0).exists()


def test_run_reverification_task_is_scheduled_daily(
    settings, due_member, mailoutbox, django_capture_on_commit_callbacks
):
    entry = next(e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "mailer.tasks.run_reverification")
    assert entry["schedule"].hour == {14}

    with django_capture_on_commit_callbacks(execute=True):
        tasks.run_reverification.delay()

    assert [message.to for message in mailoutbox] == [[due_member.email]]


def test_confirm_membership_get_shows_statement_and_changes_nothing(client, due_member):
    Member.objects.filter(pk=due_member.pk).update(reverification_reminders_sent=1, last_reminder_at=NOW)

    response = client.get(confirmation_path(due_member))

    assert response.status_code == 200
    assert "I still work at Cascade Center for Survivors, an eligible program" in response.content.decode()
    due_member.refresh_from_db()
    assert due_member.verified_at == NOW - timedelta(days=366)
    assert due_member.reverification_reminders_sent == 1
    assert not AuditRecord.objects.exists()


def test_confirm_membership_post_confirms_for_another_year(client, due_member, django_capture_on_commit_callbacks):
    run(NOW, django_capture_on_commit_callbacks)

    response = client.post(confirmation_path(due_member))

    assert response.status_code == 200
    assert "confirmed for another year" in response.content.decode()
    due_member.refresh_from_db()
    assert due_member.verified_at > NOW
    assert (due_member.reverification_reminders_sent, due_member.last_reminder_at) == (0, None)
    audit = AuditRecord.objects.get()
    assert (audit.action, audit.actor, audit.subject) == ("member_reverified", due_member, due_member)


def test_confirm_membership_stale_link_is_rejected_after_confirming(client, due_member):
    link = confirmation_path(due_member)
    client.post(link)

    for response in (client.get(link), client.post(link)):
        assert response.status_code == 400
        assert "This link is out of date" in response.content.decode()
    assert AuditRecord.objects.count() == 1


def test_confirm_membership_forged_link_is_rejected(client, due_member, member_factory):
    other = member_factory()
    token = confirmation_path(due_member).split("/")[-2]
    forged = signing.dumps({"m": other.pk, "v": "x"}, salt="another-salt")

    for path in (f"/application/confirm/{token[:-3]}abc/", f"/application/confirm/{forged}/"):
        response = client.post(path)

        assert response.status_code == 400
        assert "This link is not valid" in response.content.decode()
    due_member.refresh_from_db()
    assert due_member.verified_at == NOW - timedelta(days=366)


def test_confirm_membership_expired_link_is_rejected(client, due_member, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(
            signing.TimestampSigner, "timestamp", lambda self: signing.b62_encode(int(time.time()) - 61 * 86400)
        )
        link = confirmation_path(due_member)

    response = client.post(link)

    assert response.status_code == 400
    assert "This link has expired" in response.content.decode()


def test_confirm_membership_departed_member_is_rejected(client, due_member):
    link = confirmation_path(due_member)
    Member.objects.filter(pk=due_member.pk).update(status=Member.Status.DEPARTED)

    response = client.post(link)

    assert response.status_code == 400
    due_member.refresh_from_db()
    assert due_member.status == Member.Status.DEPARTED


def test_lapsed_member_reads_nothing_until_confirming(client, due_member, thread):
    Member.objects.filter(pk=due_member.pk).update(status=Member.Status.LAPSED)
    login(client, due_member)
    assert client.get(thread.get_absolute_url())["Location"] == "/application/"

    page = client.get("/application/").content.decode()
    link = re.search(r'href="(/application/confirm/[^"]+/)"', page).group(1)
    assert "Your membership is paused" in page
    client.post(link)

    due_member.refresh_from_db()
    assert due_member.status == Member.Status.ACTIVE
    assert client.get(thread.get_absolute_url()).status_code == 200
    assert AuditRecord.objects.get().reason == "Confirmed after their membership had lapsed."


def test_banner_asks_a_due_member_to_confirm(client, due_member, member_factory):
    login(client, due_member)
    page = client.get("/").content.decode()

    assert "Please confirm you still work at an eligible program" in page
    link = re.search(r'class="banner".*?href="/application/confirm/([^/"]+)/"', page, flags=re.S).group(1)
    assert member_for_confirmation(link) == due_member

    client.force_login(verified_days_ago(member_factory(), 100).user)
    assert "Please confirm you still work" not in client.get("/").content.decode()


def test_work_email_made_primary_at_verified_domain_keeps_member_active(
    client, member, mailoutbox, django_capture_on_commit_callbacks
):
    verified_days_ago(member, 200)
    EmailAddress.objects.create(user=member.user, email="dana@clinic.cascade.example.org", verified=True)
    login(client, member)

    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/email/", {"action_primary": "", "email": "dana@clinic.cascade.example.org"})

    member.refresh_from_db()
    assert member.user.email == "dana@clinic.cascade.example.org"
    assert member.status == Member.Status.ACTIVE
    assert member.verified_at > NOW
    audit = AuditRecord.objects.get()
    assert (audit.action, audit.subject) == ("member_reverified_automatically", member)
    assert "dana@clinic.cascade.example.org" in audit.reason
    assert not Application.objects.exists()


def test_work_email_made_primary_at_free_mail_goes_to_moderators(
    client, member, mailoutbox, django_capture_on_commit_callbacks
):
    EmailAddress.objects.create(user=member.user, email="dana.m@gmail.com", verified=True)
    login(client, member)

    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/email/", {"action_primary": "", "email": "dana.m@gmail.com"})

    member.refresh_from_db()
    assert member.status == Member.Status.PENDING
    application = Application.objects.get(member=member)
    assert (application.kind, application.status) == (Application.Kind.CHANGE, Application.Status.PENDING)
    assert application.work_email == "dana.m@gmail.com"
    assert application.organization == member.organization
    assert application.eligibility_result == "needs_manual_check"
    assert any("free-mail" in sentence for sentence in application.eligibility_evidence)
    assert AuditRecord.objects.get().action == "member_reverification_required"
    notice = next(message for message in mailoutbox if message.to == ["dana.m@gmail.com"])
    assert "gmail.com is a personal email provider" in notice.body
    assert client.get("/")["Location"] == "/application/"


def test_work_email_replaced_and_confirmed_is_checked_again(
    client, member, settings, mailoutbox, django_capture_on_commit_callbacks
):
    # With ACCOUNT_CHANGE_EMAIL allauth replaces the address once the new one is confirmed.
    settings.ACCOUNT_CHANGE_EMAIL = True
    login(client, member)
    client.post("/accounts/email/", {"action_add": "", "email": "dana@elsewhere.example.net"})
    key = EmailConfirmationHMAC(EmailAddress.objects.get(email="dana@elsewhere.example.net")).key

    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/accounts/confirm-email/{key}/")

    member.refresh_from_db()
    assert member.user.email == "dana@elsewhere.example.net"
    assert member.status == Member.Status.PENDING
    assert Application.objects.get(member=member).kind == Application.Kind.CHANGE
