from django import template

from threads.mentions import handle_for

register = template.Library()


@register.filter
def handle(full_name: str) -> str:
    """The @handle other members type to mention this name (threads.mentions)."""
    return handle_for(full_name)
