from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from . import erasure_views, member_views, organization_views, views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("allauth.urls")),
    path("application/", views.application_status, name="application_status"),
    path("application/confirm/<str:token>/", member_views.confirm_membership, name="reverify_confirm"),
    # Asking to be erased: open to accounts that are no longer members (community.erasure_views).
    path("application/erase/", erasure_views.ask, name="erasure_request"),
    path("application/erase/sent/", erasure_views.link_sent, name="erasure_link_sent"),
    path("application/erase/requested/", erasure_views.requested, name="erasure_requested"),
    path("application/erase/<str:token>/", erasure_views.ask_with_link, name="erasure_link"),
    # Start here, the guidelines and the moderators' page for their words (mailer.onboarding).
    path("", include("mailer.onboarding_urls")),
    path("members/", member_views.directory, name="member_directory"),
    path("members/<int:member_id>/", member_views.profile, name="member_profile"),
    path("profile/", member_views.edit_profile, name="edit_profile"),
    path("profile/leave/", member_views.leave, name="leave_community"),
    path("profile/data/", include("mailer.member_data_urls")),
    path("moderation/applications/", views.moderation_queue, name="moderation_queue"),
    path("moderation/applications/<int:application_id>/approve/", views.approve, name="approve_application"),
    path("moderation/applications/<int:application_id>/reject/", views.reject, name="reject_application"),
    path("moderation/applications/<int:application_id>/ask/", views.request_info, name="request_application_info"),
    path("moderation/applications/bulk-approve/", views.bulk_approve, name="bulk_approve_applications"),
    path("moderation/members/", views.members, name="moderation_members"),
    path("moderation/members/<int:member_id>/", views.member_detail, name="moderation_member"),
    path("moderation/members/<int:member_id>/suspend/", views.member_action, {"action": "suspend"},
         name="suspend_member"),
    path("moderation/members/<int:member_id>/reactivate/", views.member_action, {"action": "reactivate"},
         name="reactivate_member"),
    path("moderation/members/<int:member_id>/remove/", views.member_action, {"action": "remove"},
         name="remove_member"),
    path("moderation/members/<int:member_id>/hold-posts/", views.member_action, {"action": "hold_posts"},
         name="hold_member_posts"),
    path("moderation/members/<int:member_id>/release-posts/", views.member_action, {"action": "release_posts"},
         name="release_member_posts"),
    path("moderation/members/<int:member_id>/role/", views.member_role, name="change_member_role"),
    path("moderation/audit/", views.audit, name="moderation_audit"),
    path("moderation/mail/", include("mailer.moderation_urls")),
    path("moderation/erasure/", include("mailer.erasure_urls")),
    path("moderation/organizations/", organization_views.organization_list, name="organization_list"),
    path("moderation/organizations/new/", organization_views.organization_create, name="organization_create"),
    path("moderation/organizations/<int:organization_id>/edit/", organization_views.organization_edit,
         name="organization_edit"),
    path("admin/", admin.site.urls),
    path("mail/", include("mailer.urls")),
    path("anymail/", include("anymail.urls")),
    path("", include("threads.urls")),
]

if settings.DEBUG:
    urlpatterns.insert(0, path("dev/", include("mailer.dev_urls")))
