"""Domain events of the threads app, sent on commit with ids; mailer subscribes, threads never imports it."""

from django.dispatch import Signal

post_published = Signal()  # post_id
