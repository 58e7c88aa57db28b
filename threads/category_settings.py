"""Moderators choose, per category, whether members may post anonymously there and whether its posts stay on the
website (list mail and digests carry only the title, the author and a link). Every change is audited."""

from django.db import transaction

from community.access import can_moderate
from community.models import AuditRecord, Member
from community.services import ModerationError

from .models import Category

SETTINGS = ("allow_anonymous", "web_only")


@transaction.atomic
def update_category_settings(*, moderator: Member, category_id: int, allow_anonymous: bool, web_only: bool) -> Category:
    """Audited once per setting that changes, so the log says what was switched on or off."""
    if not can_moderate(moderator.user):
        raise ModerationError("Only moderators change category settings.")
    category = Category.objects.select_for_update().get(pk=category_id)
    wanted = {"allow_anonymous": allow_anonymous, "web_only": web_only}
    changed = [name for name in SETTINGS if getattr(category, name) != wanted[name]]
    for name in changed:
        setattr(category, name, wanted[name])
        AuditRecord.objects.create(actor=moderator, action=f"category_{name}_{'on' if wanted[name] else 'off'}",
                                   target=f"Category “{category.name}”")
    if changed:
        category.save(update_fields=changed)
    return category
