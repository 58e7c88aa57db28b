from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .access import member_of
from .mfa import has_totp
from .models import Application, AuditRecord, Member, Organization, User
from .organization_views import OrganizationForm
from .organizations import create_organization, update_organization


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "is_staff", "is_active"]
    search_fields = ["email"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser"]}),
    ]
    add_fieldsets = [(None, {"fields": ["email", "password1", "password2"]})]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    """The same rules for domains and the same audit trail as the moderators' directory."""

    form = OrganizationForm
    list_display = ["name", "eligibility_basis", "state", "domains", "active", "auto_approve_verified_domains"]
    list_filter = ["eligibility_basis", "active", "auto_approve_verified_domains"]
    search_fields = ["name", "city", "state"]

    @admin.display(description="verified email domains")
    def domains(self, organization):
        return ", ".join(organization.email_domains)

    def save_model(self, request, obj, form, change):
        actor = member_of(request.user)
        if change:
            update_organization(obj, actor=actor, **form.cleaned_data)
        else:
            obj.pk = create_organization(actor=actor, **form.cleaned_data).pk


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = ["full_name", "organization", "status", "role"]
    list_filter = ["status", "role"]
    search_fields = ["full_name", "user__email"]


admin.site.register(Application)
admin.site.register(AuditRecord)


def _staff_with_second_factor(request) -> bool:
    # The admin shows every member's details, like the moderator pages, so it needs the same two-step sign-in.
    user = request.user
    return user.is_active and user.is_staff and has_totp(user)


admin.site.has_permission = _staff_with_second_factor
admin.site.site_header = "HealTalk administration"
