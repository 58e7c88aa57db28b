import pytest
from django.utils.html import escape

from community.models import AuditRecord, EligibilityBasis, Member, Organization
from tests.conftest import login

LIST = "/moderation/organizations/"
NEW = "/moderation/organizations/new/"


def edit_url(organization):
    return f"/moderation/organizations/{organization.id}/edit/"


def organization_form(**changes):
    form = {
        "name": "Harbor Clinic", "eligibility_basis": EligibilityBasis.NCTTP_MEMBER, "city": "Baltimore",
        "state": "MD", "website": "harbor.example.org",
        "email_domains": "harbor.example.org\nHarbor-Health.example.org", "active": "on",
        "notes": "Confirmed with the consortium.",
    }
    form.update(changes)
    return {name: value for name, value in form.items() if value is not None}


def test_organization_pages_forbidden_to_members(client, member, organization):
    login(client, member)

    for url in (LIST, NEW, edit_url(organization)):
        assert client.get(url).status_code == 403, url
    assert client.post(NEW, organization_form()).status_code == 403
    assert not Organization.objects.filter(name="Harbor Clinic").exists()


def test_organization_pages_send_moderator_without_two_step_sign_in_to_set_it_up(client, member_factory):
    login(client, member_factory(role=Member.Role.MODERATOR))

    response = client.get(LIST)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"


def test_organization_list_shows_domains_and_active_member_count(moderator_client, organization, member_factory):
    member_factory(org=organization)
    member_factory(org=organization, status=Member.Status.SUSPENDED)

    page = moderator_client.get(LIST).content.decode()

    # The moderator and the first member are active members of the conftest organization.
    row = page[page.index(f'id="organization-{organization.id}"'):]
    row = row[:row.index("</tr>")]
    assert "Cascade Center for Survivors" in row
    assert "cascade.example.org" in row
    assert "2 members" in row
    assert "Active" in row


@pytest.mark.parametrize("query, shown", [
    ({"q": "harbor"}, ["Harbor Clinic"]),
    ({"q": "  HARBOR   clinic "}, ["Harbor Clinic"]),
    ({"q": "md"}, ["Harbor Clinic"]),  # the state, whole
    ({"q": "Portland"}, ["Cascade Center for Survivors"]),
    ({"basis": EligibilityBasis.NCTTP_MEMBER}, ["Harbor Clinic"]),
    ({"active": "no"}, ["Mesa Healing Partnership"]),
    ({"active": "yes"}, ["Cascade Center for Survivors", "Harbor Clinic"]),
    ({}, ["Cascade Center for Survivors", "Harbor Clinic", "Mesa Healing Partnership"]),
])
def test_organization_list_search_and_filters(moderator_client, organization, organization_factory, query, shown):
    Organization.objects.filter(pk=organization.pk).update(city="Portland", state="OR")
    organization_factory(name="Harbor Clinic", eligibility_basis=EligibilityBasis.NCTTP_MEMBER, state="MD")
    organization_factory(name="Mesa Healing Partnership", state="AZ", active=False)

    response = moderator_client.get(LIST, query)

    assert [organization.name for organization in response.context["page"].object_list] == shown


def test_organization_list_query_count_is_constant(
    moderator_client, organization_factory, member_factory, django_assert_num_queries
):
    def add_organizations(count):
        for n in range(count):
            member_factory(org=organization_factory(email_domains=[f"o{n}.example.org", f"o{n}.example.net"]))

    add_organizations(1)
    with django_assert_num_queries(6):
        assert len(moderator_client.get(LIST).context["page"].object_list) == 2
    add_organizations(10)
    with django_assert_num_queries(6):
        assert len(moderator_client.get(LIST).context["page"].object_list) == 12


def test_organization_create_saves_and_records_audit(moderator_client, moderator):
    response = moderator_client.post(NEW, organization_form(auto_approve_verified_domains="on"))

    assert response.status_code == 302
    assert response["Location"] == LIST
    harbor = Organization.objects.get(name="Harbor Clinic")
    assert harbor.email_domains == ["harbor.example.org", "harbor-health.example.org"]
    assert harbor.website == "https://harbor.example.org"
    assert (harbor.active, harbor.auto_approve_verified_domains) == (True, True)
    audit = AuditRecord.objects.get()
    assert (audit.actor, audit.action, audit.target) == (moderator, "organization_created", "Harbor Clinic")
    assert audit.reason == (
        "eligibility basis: Member of the National Consortium of Torture Treatment Programs; city: Baltimore; "
        "state: MD; website: https://harbor.example.org; email domains: harbor.example.org, "
        "harbor-health.example.org; active: yes; auto-approve verified domains: yes"
    )
    assert "Harbor Clinic is now in the directory." in moderator_client.get(LIST).content.decode()


@pytest.mark.parametrize("domains, message", [
    ("https://harbor.example.org", "“https://harbor.example.org”: write the domain only, without http:// or https://."),
    ("intake@harbor.example.org", "“intake@harbor.example.org”: write the domain only, without a name or @"),
    ("harbor.example.org/staff", "“harbor.example.org/staff”: write the domain only, without a path."),
    ("harbor", "“harbor” is not a full domain (for example cascade.example.org)."),
    ("harbor_clinic.example.org", "“harbor_clinic.example.org” is not a valid domain"),
    ("-harbor.example.org", "“-harbor.example.org” is not a valid domain"),
    ("harbor..example.org", "“harbor..example.org” is not a valid domain"),
    ("10.0.0.1", "“10.0.0.1” is not a valid domain"),
    ("gmail.com", "gmail.com is a free-mail domain: anyone can have an address there, so it verifies no one."),
    ("Outlook.com", "outlook.com is a free-mail domain"),
    ("cascade.example.org", "cascade.example.org is already a domain of Cascade Center for Survivors."),
])
def test_organization_create_rejects_bad_domain_with_a_clear_message(moderator_client, organization, domains,
                                                                     message):
    response = moderator_client.post(NEW, organization_form(email_domains=f"harbor.example.org\n{domains}"))

    assert response.status_code == 400
    assert escape(message) in response.content.decode()
    assert not Organization.objects.filter(name="Harbor Clinic").exists()
    assert not AuditRecord.objects.exists()


def test_organization_create_error_keeps_typed_values(moderator_client):
    response = moderator_client.post(NEW, organization_form(email_domains="gmail.com\nharbor.example.org"))

    page = response.content.decode()
    assert 'value="Harbor Clinic"' in page
    assert "gmail.com\nharbor.example.org</textarea>" in page
    assert "Confirmed with the consortium.</textarea>" in page


def test_organization_create_refuses_a_name_in_the_directory_ignoring_case(moderator_client, organization):
    response = moderator_client.post(NEW, organization_form(name="  cascade center FOR survivors "))

    assert response.status_code == 400
    assert "Cascade Center for Survivors is already in the directory." in response.content.decode()
    assert Organization.objects.count() == 1


def test_organization_create_auto_approve_needs_a_domain(moderator_client):
    response = moderator_client.post(NEW, organization_form(email_domains="", auto_approve_verified_domains="on"))

    assert response.status_code == 400
    assert response.context["form"].errors["auto_approve_verified_domains"] == ["Add a verified email domain first."]


def test_organization_edit_records_changed_fields(moderator_client, moderator, organization):
    form = organization_form(
        name="Cascade Center for Survivors", eligibility_basis=organization.eligibility_basis, city="", state="OR",
        website="", email_domains="cascade.example.org\ncascade-clinic.example.org", active=None,
        auto_approve_verified_domains="on", notes="",
    )

    response = moderator_client.post(edit_url(organization), form)

    assert response.status_code == 302
    organization.refresh_from_db()
    assert organization.email_domains == ["cascade.example.org", "cascade-clinic.example.org"]
    assert (organization.active, organization.auto_approve_verified_domains) == (False, True)
    audit = AuditRecord.objects.get()
    assert (audit.actor, audit.action, audit.target) == (moderator, "organization_updated", organization.name)
    assert audit.reason == (
        "state: (empty) → “OR”; email domains: added cascade-clinic.example.org; active: yes → no; "
        "auto-approve verified domains: no → yes"
    )


def test_organization_edit_without_changes_records_nothing(moderator_client, organization):
    form = organization_form(
        name=organization.name, eligibility_basis=organization.eligibility_basis, city="", state="", website="",
        email_domains="cascade.example.org", notes="",
    )

    response = moderator_client.post(edit_url(organization), form)

    assert response.status_code == 302
    assert not AuditRecord.objects.exists()
    assert "Nothing was changed." in moderator_client.get(LIST).content.decode()


def test_organization_edit_shows_current_values(moderator_client, organization_factory):
    harbor = organization_factory(name="Harbor Clinic", email_domains=["harbor.example.org", "harbor2.example.org"])

    page = moderator_client.get(edit_url(harbor)).content.decode()

    assert "<h1>Edit Harbor Clinic</h1>" in page
    assert "harbor.example.org\nharbor2.example.org</textarea>" in page


def test_organization_edit_unknown_organization_is_404(moderator_client):
    assert moderator_client.get("/moderation/organizations/999999/edit/").status_code == 404


def test_organization_admin_applies_the_same_rules_and_audit(client, moderator, organization):
    moderator.user.is_staff = moderator.user.is_superuser = True
    moderator.user.save()
    login(client, moderator)

    refused = client.post("/admin/community/organization/add/", organization_form(email_domains="gmail.com"))
    saved = client.post(
        f"/admin/community/organization/{organization.id}/change/",
        organization_form(name=organization.name, eligibility_basis=organization.eligibility_basis,
                          email_domains="cascade.example.org", city="", state="OR", website="", notes=""),
    )

    assert "gmail.com is a free-mail domain" in refused.content.decode()
    assert not Organization.objects.filter(name="Harbor Clinic").exists()
    assert saved.status_code == 302
    audit = AuditRecord.objects.get()
    assert (audit.actor, audit.action, audit.reason) == (moderator, "organization_updated", "state: (empty) → “OR”")
