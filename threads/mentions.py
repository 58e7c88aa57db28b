"""@mentions: `@first.last` names a member, and the mentioned member hears of it by email.

A member's handle is derived from their full name, never stored: accents folded to ASCII, lowercased,
the words joined by dots ("José María Núñez" → `@jose.maria.nunez`). When two active members would share
a handle, the bare handle names neither of them (it is left as plain text) and each is named by the handle
followed by their member number (`@dana.lee.42`), which is unique; the handle is shown on every post.
"""

import re
import unicodedata
from functools import partial

from django.db import transaction

from community.models import Member

from .events import member_mentioned
from .markdown import MENTION, render_markdown
from .models import Mention, Post


def handle_for(full_name: str) -> str:
    folded = unicodedata.normalize("NFKD", full_name).encode("ascii", "ignore").decode().lower()
    return ".".join(re.findall(r"[a-z0-9]+", folded))


def handles_in(body: str) -> set[str]:
    return {match.group(1).lower() for match in MENTION.finditer(body)}


def resolve(handles: set[str]) -> dict[str, int]:
    """Handles of active members among `handles`, each mapped to its member id, in one query."""
    if not handles:
        return {}
    by_handle: dict[str, list[int]] = {}
    # Handles are not stored, so the active members' names are read once for the whole post.
    for member_id, full_name in Member.objects.filter(status=Member.Status.ACTIVE).values_list("id", "full_name"):
        by_handle.setdefault(handle_for(full_name), []).append(member_id)
    resolved = {}
    for handle in handles:
        ids = by_handle.get(handle, [])
        if len(ids) == 1:
            resolved[handle] = ids[0]
            continue
        base, _, number = handle.rpartition(".")
        if number.isdigit() and int(number) in by_handle.get(base, []):
            resolved[handle] = int(number)
    return resolved


def render_post(body: str) -> tuple[str, set[int]]:
    """The post's sanitised HTML with mentions linked, and the ids of the members it mentions."""
    mentions = resolve(handles_in(body))
    return render_markdown(body, mentions), set(mentions.values())


def announce_mentions(post: Post, member_ids: set[int]) -> None:
    """Records whom the post names (list mail "only threads I take part in" counts a mention as taking part) and
    tells each of them on commit. Calling it again for the same post stores nothing twice."""
    named = sorted(member_ids - {post.author_id})
    Mention.objects.bulk_create([Mention(post=post, member_id=member_id) for member_id in named],
                                ignore_conflicts=True)
    for member_id in named:
        transaction.on_commit(partial(member_mentioned.send, Post, post_id=post.id, member_id=member_id))
