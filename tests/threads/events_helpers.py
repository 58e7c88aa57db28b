"""Webinars and e-consultations in a given state, for the events tests; the domain events a test sends."""

from contextlib import contextmanager
from datetime import timedelta

from django.utils import timezone

from threads.models import EConsultation, Webinar
from threads.webinars import create_econsultation


def make_webinar(**fields) -> Webinar:
    start = timezone.now().replace(microsecond=0) - timedelta(days=2)
    fields = {"title": "Group Work with Survivors of Torture", "summary": "Setting up and closing groups.",
              "starts_at": start, "ends_at": start + timedelta(minutes=90), "time_zone": "America/Chicago",
              **fields}
    return Webinar.objects.create(**fields)


def _windows(state: str) -> dict:
    """When questions open and the live window starts, relative to now, for each state."""
    now = timezone.now().replace(microsecond=0)
    opens, starts = {
        EConsultation.UPCOMING: (timedelta(days=1), timedelta(days=7)),
        EConsultation.OPEN: (-timedelta(days=1), timedelta(days=6)),
        EConsultation.LIVE: (-timedelta(days=7), -timedelta(minutes=10)),
        EConsultation.CLOSED: (-timedelta(days=9), -timedelta(days=2)),
    }[state]
    return {"questions_open_at": now + opens, "live_starts_at": now + starts}


def make_econsultation(moderator, state: str = EConsultation.OPEN, webinar: Webinar | None = None,
                       capture=None) -> EConsultation:
    """An e-consultation opened by `moderator`; pass django_capture_on_commit_callbacks as `capture` to run the
    opening post's side effects."""
    windows = _windows(state)
    windows["live_ends_at"] = windows["live_starts_at"] + timedelta(minutes=90)
    webinar = webinar or make_webinar()
    if capture is None:
        return create_econsultation(webinar, moderator=moderator, **windows)
    with capture(execute=True):
        return create_econsultation(webinar, moderator=moderator, **windows)


@contextmanager
def recorded(**signals):
    """The domain events sent inside the block, as (name, the id it carries): recorded(held=post_held)."""
    sent, receivers = [], []
    for name, signal in signals.items():
        def receive(sender, signal, _name=name, **ids):
            sent.append((_name, *ids.values()))

        signal.connect(receive, weak=False)
        receivers.append((signal, receive))
    try:
        yield sent
    finally:
        for signal, receive in receivers:
            signal.disconnect(receive)
