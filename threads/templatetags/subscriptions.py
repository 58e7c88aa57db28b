"""The email choices offered for one thread or category, in the words members see on the page."""

from django import template

from threads.models import Subscription

register = template.Library()

Level = Subscription.Level

# (level, what it is, what arrives); "" goes back to the member's own mail setting.
CHOICES = [
    ("", "Use my mail setting", "whatever you chose on your email settings page"),
    (Level.WATCH, "Every message", "each new post emailed to you as it is posted"),
    (Level.DAILY, "Daily digest", "new posts gathered in one email each morning"),
    (Level.WEEKLY, "Weekly digest", "new posts gathered in one email once a week"),
    (Level.MINE, "Only threads I take part in",
     "posts in threads you started, replied to or are mentioned in, as they are posted; nothing else"),
    (Level.MUTE, "No email", "you read it on the website"),
]

SHORT = {
    Level.WATCH: "every message",
    Level.DAILY: "in your daily digest",
    Level.WEEKLY: "in your weekly digest",
    Level.MINE: "only threads you take part in",
    Level.MUTE: "no email",
}


@register.simple_tag
def subscription_choices(what: str) -> list[tuple[str, str, str]]:
    """"Only threads I take part in" means nothing for one thread (threads.reading.set_subscription)."""
    return [choice for choice in CHOICES if what == "category" or choice[0] != Level.MINE]


@register.filter
def level_words(level: str) -> str:
    return SHORT.get(level, "")
