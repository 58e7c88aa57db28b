"""Moderators choose where anonymous posting is allowed and which categories stay on the website."""

import pytest

from community.models import AuditRecord
from community.services import ModerationError
from threads.category_settings import update_category_settings
from threads.models import Category


def test_category_settings_page_lets_a_moderator_switch_both_settings(moderator_client, moderator, category,
                                                                      other_category):
    page = moderator_client.get("/moderation/categories/").content.decode()
    assert category.name in page and other_category.name in page

    response = moderator_client.post("/moderation/categories/", {
        "category": category.id, f"c{category.id}-allow_anonymous": "on", f"c{category.id}-web_only": "on",
        # another category's fields in the same request are ignored
        f"c{other_category.id}-web_only": "on"})

    assert response.status_code == 302
    assert Category.objects.filter(pk=category.pk, allow_anonymous=True, web_only=True).exists()
    assert not Category.objects.get(pk=other_category.pk).web_only
    assert sorted(AuditRecord.objects.filter(actor=moderator).values_list("action", flat=True)) == [
        "category_allow_anonymous_on", "category_web_only_on"]


def test_category_settings_unchanged_are_not_audited(moderator_client, category):
    moderator_client.post("/moderation/categories/", {"category": category.id})

    assert not AuditRecord.objects.exists()


def test_category_settings_page_is_for_moderators_only(member_client, category):
    response = member_client.post("/moderation/categories/", {
        "category": category.id, f"c{category.id}-web_only": "on"})

    assert response.status_code in (302, 403, 404)
    assert not Category.objects.get(pk=category.pk).web_only


def test_update_category_settings_refused_to_members(member, category):
    with pytest.raises(ModerationError):
        update_category_settings(moderator=member, category_id=category.id, allow_anonymous=True, web_only=True)

    category.refresh_from_db()
    assert not (category.allow_anonymous or category.web_only)
