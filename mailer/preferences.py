"""How a member gets list mail, changed from a signed link that needs no login."""

from community.models import Member

from .models import MailPreference
from .tokens import InvalidToken, read_unsubscribe_token


def member_for_unsubscribe_token(token: str) -> Member:
    """The member a link or List-Unsubscribe token was issued to; raises InvalidToken once revoked."""
    member_id, generation = read_unsubscribe_token(token)
    member = Member.objects.select_related("mail_preference").filter(pk=member_id).first()
    preference = getattr(member, "mail_preference", None) if member else None
    if member is None or (preference.token_generation if preference else 0) != generation:
        raise InvalidToken("This unsubscribe link has been withdrawn. Use the link in a more recent email.")
    return member


def set_mail_mode(member: Member, mode: str) -> MailPreference:
    preference, _ = MailPreference.objects.update_or_create(member=member, defaults={"mode": mode})
    return preference
