from django import template

register = template.Library()

# How audit actions read to a moderator; an action without an entry reads as its name.
ACTION_LABELS = {
    "application_approved": "Approved an application",
    "application_rejected": "Declined an application",
    "application_info_requested": "Asked an applicant for more information",
    "application_info_answered": "Answered a moderator's question",
    "member_suspended": "Suspended a member",
    "member_reactivated": "Reactivated a member",
    "member_removed": "Removed a member",
    "role_changed": "Changed a role",
    "member_posts_held": "Held a member's posts for approval",
    "member_posts_released": "Stopped holding a member's posts for approval",
    "held_post_approved": "Approved a held post",
    "held_post_rejected": "Did not publish a held post",
    "guard_confirmed": "Confirmed a post the confidentiality guard stopped is not client information",
    "guard_released": "Published their post the confidentiality guard held",
    "first_moderator_created": "First moderator created",
    "application_auto_approved": "Approved automatically (verified work email)",
    "member_left": "Left the community",
    "member_lapsed": "Lapsed (did not re-verify)",
    "member_reverified": "Confirmed they are still eligible",
    "member_reverified_automatically": "Re-verified automatically",
    "member_reverification_required": "Needs re-verification after a change",
    "organization_created": "Added an organization",
    "organization_updated": "Changed an organization",
    "organizations_imported": "Imported organizations",
    "category_allow_anonymous_on": "Allowed anonymous posts in a category",
    "category_allow_anonymous_off": "Stopped anonymous posts in a category",
    "category_web_only_on": "Made a category web only (no posts in full by email)",
    "category_web_only_off": "Let a category's posts be emailed in full again",
    "erasure_requested": "Asked to be erased",
    "erasure_declined": "Declined a request to be erased",
    "member_erased": "Erased a member who asked (who is no longer recorded)",
    "community_text_changed": "Changed the words of Start here or the guidelines",
}


@register.filter
def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action.replace("_", " ").capitalize())
