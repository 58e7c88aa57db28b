from django import template
from django.conf import settings
from django.utils.safestring import mark_safe

register = template.Library()


@register.filter
def absolute_links(html: str) -> str:
    """Post HTML links site pages by path (mentions: /members/<id>/); a mail client has no site to resolve
    them against. The HTML was sanitised by nh3 when the post was rendered."""
    return mark_safe(html.replace('href="/', f'href="{settings.SITE_URL}/'))
