"""Domain events of the threads app, sent on commit with ids; mailer subscribes, threads never imports it."""

from django.dispatch import Signal

post_published = Signal()  # post_id
econsultation_summarised = Signal()  # econsultation_id: a host wrote the summary for the first time
member_mentioned = Signal()  # post_id, member_id: a post names the member with @handle (threads.mentions)
post_held = Signal()  # post_id: a post waits for a moderator's approval (threads.moderation); not published yet
