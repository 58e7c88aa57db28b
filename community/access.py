"""The one access check. Views, consumers, feeds, downloads and inbound mail all call these.

community imports neither threads nor mailer, so targets are read by their attributes:
a category has `moderators_only`, a thread has `category` and `locked`, a post has `thread`, a library resource
has `status` and `submitted_by_id`.
"""

from .models import Member


class NotAMember(Exception):
    """The user is not an active, approved member (anonymous, pending, suspended, lapsed ...)."""


def member_of(user) -> Member | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    try:
        member = user.member
    except Member.DoesNotExist:
        return None
    return member if member.is_active_member else None


def require_member(user) -> Member:
    member = member_of(user)
    if member is None:
        raise NotAMember
    return member


def can_read(user, obj=None) -> bool:
    # Every category and thread is open to every member today; per-category rules join here.
    member = member_of(user)
    if member is None:
        return False
    # A library resource not yet approved (waiting, changes asked for, not accepted) exists only for moderators
    # and the member who submitted it.
    if hasattr(obj, "submitted_by_id"):
        return obj.status == "approved" or obj.submitted_by_id == member.id or member.is_moderator
    # A thread or post waiting for a moderator's approval (held_at) exists only for moderators and its author.
    return not getattr(obj, "held_at", None) or obj.author_id == member.id or member.is_moderator


def can_post(user, target) -> bool:
    member = member_of(user)
    if member is None:
        return False
    thread = getattr(target, "thread", target)
    if hasattr(thread, "locked"):
        # A thread waiting for a moderator's approval takes replies once it is published.
        return not thread.locked and not getattr(thread, "held_at", None)
    # A category: "moderators only" is about starting threads there; members still reply to them.
    return not getattr(target, "moderators_only", False) or member.is_moderator


def can_moderate(user) -> bool:
    member = member_of(user)
    return member is not None and member.is_moderator
