"""Helpers for tests of inbound mail: realistic messages from tests/fixtures with this run's addresses."""

from pathlib import Path

from mailer.tokens import make_reply_address

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def fixture_text(name: str, **values: str) -> str:
    """A fixture file with each {{NAME}} placeholder replaced by values[name.lower()]."""
    text = (FIXTURES / name).read_text()
    for key, value in values.items():
        text = text.replace("{{" + key.upper() + "}}", value)
    assert "{{" not in text, f"{name}: a placeholder was left unfilled"
    return text


def eml(name: str, **values: str) -> bytes:
    return fixture_text(name, **values).encode()


def reply_address(post, member) -> str:
    preference = getattr(member, "mail_preference", None)
    return make_reply_address(post_id=post.id, member_id=member.id,
                              generation=preference.token_generation if preference else 0)


def reply_eml(name: str, post, member, sender: str | None = None) -> bytes:
    """A fixture as `sender` (the member by default) would send it in answer to `post`."""
    return eml(name, sender=sender or member.email, reply_address=reply_address(post, member),
               parent_message_id=post.message_id)


def auto_replies(mailoutbox) -> list:
    """What we answered to inbound mail: rejections and notices, both marked as automatic replies."""
    return [message for message in mailoutbox if message.extra_headers.get("Auto-Submitted") == "auto-replied"]


def rejections(mailoutbox) -> list:
    return [message for message in auto_replies(mailoutbox) if message.subject.startswith("Not posted:")]


def notices(mailoutbox) -> list:
    return [message for message in auto_replies(mailoutbox) if not message.subject.startswith("Not posted:")]
