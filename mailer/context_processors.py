from .bounces import delivery_pause


def mail_delivery(request):
    """The paused-mail banner on every page (base.html), read from the cache: no query per page."""
    member = getattr(request, "member", None)
    return {"mail_pause": delivery_pause(member.id) if member is not None else None}
