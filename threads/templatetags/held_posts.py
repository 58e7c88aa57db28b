from django import template

from ..selectors import held_post_count

register = template.Library()

# The moderation menu shows how many posts wait, on every moderator page.
register.simple_tag(held_post_count)
