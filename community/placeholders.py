"""Placeholder members: the authors of imported list mail who have no account here (mailer.list_import).

A placeholder keeps the author's name on their posts until someone who has verified that author's address
claims them. It is never a member (status placeholder, so the access check refuses it) and can never sign in
or receive mail: its account is inactive, has no usable password, no allauth EmailAddress row (so no password
reset), and an address under the reserved `.invalid` top-level domain (RFC 2606), which no mail system delivers.
"""

import uuid

from django.db import transaction

from .models import Member, User

PLACEHOLDER_DOMAIN = "placeholder.invalid"


def is_placeholder_address(email: str) -> bool:
    return email.lower().endswith(f"@{PLACEHOLDER_DOMAIN}")


@transaction.atomic
def create_placeholder(full_name: str) -> Member:
    """`full_name` is what the archive says (a decoded display name, or the address itself): never invented."""
    user = User.objects.create_user(email=f"imported-{uuid.uuid4().hex}@{PLACEHOLDER_DOMAIN}", password=None,
                                    is_active=False)
    return Member.objects.create(user=user, full_name=full_name.strip()[:150], status=Member.Status.PLACEHOLDER)


def retire_placeholder(member: Member) -> None:
    """Once its posts belong to a real account, the placeholder goes; a post still pointing at it makes this
    fail (posts protect their author), so nothing can be lost by retiring too early."""
    if member.status != Member.Status.PLACEHOLDER:
        raise ValueError(f"Member {member.pk} is not a placeholder.")
    member.user.delete()
