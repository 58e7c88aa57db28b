"""Retention (mailer.retention.apply_retention, beat "retention"): rows on both sides of each limit, batches, a
second run changing nothing, and settings that move the limits."""

from datetime import timedelta

import pytest
from django.utils import timezone

from community.models import AuditRecord
from mailer import tasks
from mailer.models import CapturedEmail, DeliveryEvent, InboundMessage
from mailer.retention import RetentionRun, apply_retention
from threads.models import GuardCheck

NOW = timezone.now()


def _days_ago(days: float):
    return NOW - timedelta(days=days)


def _inbound(name, days, status=InboundMessage.Status.POSTED):
    return InboundMessage.objects.create(message_id=f"<{name}@mail>", raw=f"From: x\n\n{name}", sender="x@example.org",
                                         subject=name, status=status, received_at=_days_ago(days))


def _event(name, days, applied=True):
    return DeliveryEvent.objects.create(esp_name="postmark", event_id=name, event_type="bounced",
                                        kind=DeliveryEvent.Kind.SOFT_BOUNCE, recipient="x@example.org",
                                        raw={"Email": "x@example.org"}, received_at=_days_ago(days),
                                        applied_at=_days_ago(days) if applied else None)


@pytest.fixture
def rows(db, member):
    return {
        "old mail": _inbound("old", 91),
        "recent mail": _inbound("recent", 89),
        "old mail never processed": _inbound("waiting", 200, status=InboundMessage.Status.RECEIVED),
        "old event": _event("old", 91),
        "recent event": _event("recent", 89),
        "old event not applied": _event("unapplied", 91, applied=False),
        "old audit": AuditRecord.objects.create(action="member_left", subject=member, created_at=_days_ago(1096)),
        "recent audit": AuditRecord.objects.create(action="member_left", subject=member, created_at=_days_ago(1094)),
        "old check": GuardCheck.objects.create(author=member, source="web", outcome=GuardCheck.Outcome.CONFIRMED,
                                               created_at=_days_ago(366)),
        "recent check": GuardCheck.objects.create(author=member, source="web", outcome=GuardCheck.Outcome.CONFIRMED,
                                                  created_at=_days_ago(364)),
        "old check still holding": GuardCheck.objects.create(
            author=member, source="email", outcome=GuardCheck.Outcome.HELD, created_at=_days_ago(400)),
        "old capture": CapturedEmail.objects.create(sender="a", recipients="b", raw="x", created_at=_days_ago(15)),
        "recent capture": CapturedEmail.objects.create(sender="a", recipients="b", raw="x", created_at=_days_ago(13)),
    }


def _reloaded(row):
    return type(row).objects.filter(pk=row.pk).first()


def test_apply_retention_acts_on_rows_past_each_limit_only(rows):
    run = apply_retention(now=NOW)

    assert run == RetentionRun(inbound_emptied=1, delivery_payloads_emptied=1, audit_deleted=1,
                               guard_checks_deleted=1, captured_deleted=1)
    old_mail = _reloaded(rows["old mail"])
    assert (old_mail.raw, old_mail.message_id, old_mail.subject) == ("", "<old@mail>", "old")  # the row stays
    assert _reloaded(rows["recent mail"]).raw
    assert _reloaded(rows["old mail never processed"]).raw
    old_event = _reloaded(rows["old event"])
    assert (old_event.raw, old_event.kind) == ({}, DeliveryEvent.Kind.SOFT_BOUNCE)  # the report stays
    assert _reloaded(rows["recent event"]).raw and _reloaded(rows["old event not applied"]).raw
    assert _reloaded(rows["old audit"]) is None and _reloaded(rows["recent audit"])
    assert _reloaded(rows["old check"]) is None
    assert _reloaded(rows["recent check"]) and _reloaded(rows["old check still holding"])
    assert _reloaded(rows["old capture"]) is None and _reloaded(rows["recent capture"])


def test_apply_retention_twice_changes_nothing_more(rows):
    apply_retention(now=NOW)

    assert apply_retention(now=NOW) == RetentionRun()


def test_apply_retention_works_in_batches(db):
    for number in range(5):
        _inbound(f"old-{number}", 100)
        CapturedEmail.objects.create(sender="a", recipients="b", raw="x", created_at=_days_ago(30))

    run = apply_retention(now=NOW, batch_size=2)

    assert (run.inbound_emptied, run.captured_deleted) == (5, 5)
    assert not InboundMessage.objects.exclude(raw="").exists() and not CapturedEmail.objects.exists()


def test_apply_retention_follows_the_settings(rows, settings):
    settings.RETENTION_INBOUND_DAYS = 30
    settings.RETENTION_AUDIT_DAYS = 2000

    run = apply_retention(now=NOW)

    assert run.inbound_emptied == 2 and run.audit_deleted == 0
    assert _reloaded(rows["recent mail"]).raw == ""


def test_retention_task_runs_daily_from_beat(rows, settings):
    entry = settings.CELERY_BEAT_SCHEDULE["retention"]

    assert entry["task"] == "mailer.tasks.apply_retention"
    assert entry["schedule"].hour == {5}
    tasks.apply_retention.delay()
    assert _reloaded(rows["old audit"]) is None
