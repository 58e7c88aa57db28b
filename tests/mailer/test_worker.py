"""A real Celery worker over the Redis broker delivers what a new post fans out."""

import time
import uuid

import pytest
from celery.contrib.testing.worker import start_worker

from community.celery import app as celery_app
from mailer.models import OutboundMessage
from threads.services import create_thread


def wait_for(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture
def worker():
    """A worker on a queue of its own, so a development worker on the same Redis cannot take our tasks."""
    queue = f"healtalk-test-{uuid.uuid4().hex}"
    default_queue = celery_app.conf.task_default_queue
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = queue
    try:
        with start_worker(celery_app, perform_ping_check=False, queues=[queue], shutdown_timeout=5) as running:
            yield running
    finally:
        celery_app.conf.task_default_queue = default_queue
        with celery_app.connection() as connection:
            bound = celery_app.amqp.queues[queue].bind(connection.default_channel)
            bound.declare()  # a channel only deletes the bindings it knows about
            bound.delete()


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
