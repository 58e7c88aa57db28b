"""Real Celery workers over the Redis broker deliver what a new post fans out, exactly once even when one dies."""

import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.db import connection

from community.celery import app as celery_app
from mailer.models import OutboundMessage
from threads.services import create_thread

from .test_smtp import Collect, start_sink

VISIBILITY_TIMEOUT = 2  # seconds before the broker hands a dead worker's unacknowledged task to another


def wait_for(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture
def queue():
    """A queue of our own, so a development worker on the same Redis cannot take our tasks."""
    name = f"healtalk-test-{uuid.uuid4().hex}"
    default_queue = celery_app.conf.task_default_queue
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = name
    try:
        yield name
    finally:
        celery_app.conf.task_default_queue = default_queue
        with celery_app.connection() as broker:
            bound = celery_app.amqp.queues[name].bind(broker.default_channel)
            bound.declare()  # a channel only deletes the bindings it knows about
            bound.delete()


@pytest.fixture
def worker(queue):
    with start_worker(celery_app, perform_ping_check=False, queues=[queue], shutdown_timeout=5) as running:
        yield running


@pytest.mark.django_db(transaction=True)
def test_fan_out_post_is_delivered_by_a_real_worker(member, member_factory, category, worker, mailoutbox):
    reader = member_factory()

    thread = create_thread(author=member, category=category, title="Over the broker", body="Sent by a worker.")

    sent = OutboundMessage.objects.filter(post__thread=thread, status=OutboundMessage.Status.SENT)
    assert wait_for(sent.exists)  # the row is marked sent once the worker's transaction commits
    [message] = mailoutbox
    assert message.to == [reader.email]
    assert "Sent by a worker." in message.body
    assert sent.get().member_id == reader.id


class WorkerProcess:
    """`celery -A community worker` in a process group of its own, on the test database and queue."""

    def __init__(self, queue, log_path, smtp):
        database = connection.settings_dict
        self.log_path = log_path
        self.env = {
            **os.environ,
            "DATABASE_URL": f"postgres://{database['USER']}:{database['PASSWORD'] or ''}@{database['HOST']}:"
                            f"{database['PORT']}/{database['NAME']}",
            "CELERY_QUEUE": queue,
            "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": smtp.hostname, "EMAIL_PORT": str(smtp.port),
            "SITE_URL": settings.SITE_URL, "LIST_DOMAIN": settings.LIST_DOMAIN,
        }
        self.process = None

    def start(self):
        self.log = open(self.log_path, "ab")  # closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "community", "worker", "--pool=solo", "--loglevel=INFO",
             "--without-gossip", "--without-mingle", "--without-heartbeat", "-Q", self.env["CELERY_QUEUE"],
             "-n", f"killable-{uuid.uuid4().hex[:8]}@%h"],
            cwd=settings.BASE_DIR, env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        assert wait_for(lambda: b" ready." in self.log_path.read_bytes(), timeout=30), self.output()
        return self

    def kill(self):
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.kill()
        self.log.close()

    def output(self):
        return self.log_path.read_text(errors="replace")[-4000:]


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(180)
def test_worker_killed_mid_fan_out_then_restarted_delivers_every_message_exactly_once(
    member, member_factory, category, queue, settings, tmp_path
):
    """The kill lands while the server holds back its answer to DATA. A kill after the server's 250 and before
    the worker commits the row is the one case that sends twice (see mailer.outbound.deliver_outbound)."""
    readers = [member_factory() for _ in range(8)]
    sink = Collect(delay=0.5)  # slow enough that the kill lands while a message is being handed over
    smtp = start_sink(settings, sink)
    first = WorkerProcess(queue, tmp_path / "first.log", smtp).start()
    second = WorkerProcess(queue, tmp_path / "second.log", smtp)
    try:
        thread = create_thread(author=member, category=category, title="Killed mid fan-out", body="Exactly once.")
        rows = OutboundMessage.objects.filter(post__thread=thread)

        assert wait_for(lambda: len(sink.envelopes) >= 2 and sink.receiving.is_set(), timeout=30), first.output()
        first.kill()  # SIGKILL: no shutdown, no acknowledgement; the message in flight never got its 250
        accepted_before_restart = len(sink.envelopes)
        assert accepted_before_restart < len(readers)
        assert rows.count() == len(readers)  # the fan-out itself had finished
        time.sleep(VISIBILITY_TIMEOUT + 0.5)  # the broker gives the dead worker's task to the next one
        second.start()

        assert wait_for(lambda: rows.filter(status=OutboundMessage.Status.SENT).count() == len(readers),
                        timeout=60), second.output()
    finally:
        first.stop()
        second.stop()
        smtp.stop()

    # Each reader got exactly one message: the one that was cut off mid-DATA was sent again, in full, by the
    # second worker, and none of those the server had accepted was sent twice.
    assert Counter(address for envelope in sink.envelopes for address in envelope.rcpt_tos) == Counter(
        reader.email for reader in readers)
    assert all(b"Exactly once." in envelope.content for envelope in sink.envelopes)
    assert sorted(rows.values_list("attempts", flat=True)) == [1] * len(readers)
