"""Domain events of the threads app, sent on commit with ids; mailer subscribes, threads never imports it."""

from django.dispatch import Signal

post_published = Signal()  # post_id
econsultation_summarised = Signal()  # econsultation_id: a host wrote the summary for the first time
member_mentioned = Signal()  # post_id, member_id: a post names the member with @handle (threads.mentions)
post_held = Signal()  # post_id: a post waits for a moderator's approval (threads.services); not published yet
held_post_rejected = Signal()  # post_id: a moderator did not publish a held post; Post.hidden_reason says why
resource_submitted = Signal()  # resource_id: waits for a moderator's review (new, or changed after a request)
resource_reviewed = Signal()  # resource_id: approved, changes asked for, or not accepted; the submitter hears why
resource_links_broken = Signal()  # resource_ids: links newly found broken by the periodic check; moderators hear
