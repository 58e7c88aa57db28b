"""Placeholder members: the authors of imported list mail who have no account here (mailer.list_import).

A placeholder keeps the author's name on their posts until someone who has verified that author's address
claims them. It is never a member (status placeholder, so the access check refuses it) and can never sign in
or receive mail: its account is inactive, has no usable password, no allauth EmailAddress row (so no password
reset), and an address under the reserved `.invalid` top-level domain (RFC 2606), which no mail system delivers.
"""

import uuid

from django.db import IntegrityError, transaction

from .models import Member, User

PLACEHOLDER_DOMAIN = "placeholder.invalid"
# The one author of every erased member's posts (community.erasure): no invitation names this address, so no
# account can ever claim its posts.
FORMER_MEMBER_NAME = "Former member"
FORMER_MEMBER_EMAIL = f"former-member@{PLACEHOLDER_DOMAIN}"


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


def former_member() -> Member:
    """The shared "Former member" placeholder, made the first time a member is erased."""
    member = Member.objects.filter(user__email=FORMER_MEMBER_EMAIL).first()
    if member is not None:
        return member
    try:
        with transaction.atomic():
            user = User.objects.create_user(email=FORMER_MEMBER_EMAIL, password=None, is_active=False)
            return Member.objects.create(user=user, full_name=FORMER_MEMBER_NAME, status=Member.Status.PLACEHOLDER)
    except IntegrityError:  # another erasure made it a moment ago
        return Member.objects.get(user__email=FORMER_MEMBER_EMAIL)
