import pytest

from community.models import Application, AuditRecord, EligibilityBasis, Member
from tests.conftest import login


def profile_data(member, **changes):
    data = {
        "full_name": member.full_name, "role_title": member.role_title,
        "organization": member.organization_id or "", "bio": member.bio,
        "areas_of_practice": member.areas_of_practice,
        **{name: "on" for name in ("show_organization", "show_role", "show_bio", "show_email")
           if getattr(member, name)},
    }
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}


@pytest.fixture
def riverside(organization_factory):
    return organization_factory(name="Riverside Refugee Health", email_domains=["riverside.example.org"],
                                state="OR", eligibility_basis=EligibilityBasis.NCTTP_MEMBER)


def test_edit_profile_saves_what_the_member_shows(client, member):
    login(client, member)

    response = client.post("/profile/", profile_data(
        member, full_name="Dana K. Member", role_title="Clinical psychologist", bio="Twenty years in the field.",
        areas_of_practice="Asylum evaluations", show_email="on", show_organization=None,
    ))

    assert response["Location"] == "/profile/"
    member.refresh_from_db()
    assert (member.full_name, member.role_title, member.bio, member.areas_of_practice) == (
        "Dana K. Member", "Clinical psychologist", "Twenty years in the field.", "Asylum evaluations"
    )
    assert (member.show_email, member.show_organization, member.show_role, member.show_bio) == (
        True, False, True, True
    )
    assert member.status == Member.Status.ACTIVE
    assert not AuditRecord.objects.exists()


def test_edit_profile_page_explains_each_visibility_choice(client, member):
    login(client, member)

    page = client.get("/profile/").content.decode()

    assert "Members can see your email address and write to you directly" in page
    assert 'aria-describedby="id_show_email_helptext"' in page
    assert 'id="id_show_email_helptext"' in page


def test_edit_profile_organization_change_warns_before_saving(client, member, riverside):
    login(client, member)

    response = client.post("/profile/", profile_data(member, organization=riverside.id, role_title="Therapist"))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Before we save: your new organization is checked again" in page
    assert "A moderator will need to confirm" in page
    assert f'name="confirm_change" value="{riverside.id}"' in page
    member.refresh_from_db()
    assert (member.organization, member.role_title) != (riverside, "Therapist")
    assert not Application.objects.exists()


def test_edit_profile_confirmation_for_another_organization_warns_again(client, member, riverside,
                                                                          organization_factory):
    login(client, member)
    third = organization_factory()

    response = client.post("/profile/", profile_data(member, organization=third.id, confirm_change=riverside.id))

    assert "Before we save" in response.content.decode()
    member.refresh_from_db()
    assert member.organization != third


def test_edit_profile_organization_change_at_verified_domain_keeps_member(
    client, member_factory, riverside, mailoutbox, django_capture_on_commit_callbacks
):
    member = member_factory(email="sam@riverside.example.org")
    login(client, member)
    data = profile_data(member, organization=riverside.id)
    assert "you stay a member" in client.post("/profile/", data).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/profile/", {**data, "confirm_change": riverside.id})

    assert response["Location"] == "/profile/"
    member.refresh_from_db()
    assert (member.organization, member.status) == (riverside, Member.Status.ACTIVE)
    assert member.verified_at is not None
    audit = AuditRecord.objects.get()
    assert (audit.action, audit.subject, audit.target) == ("member_reverified_automatically", member, riverside.name)
    assert not Application.objects.exists()
    assert mailoutbox == []


def test_edit_profile_organization_change_elsewhere_goes_to_moderators(
    client, member, organization, riverside, mailoutbox, django_capture_on_commit_callbacks
):
    login(client, member)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/profile/", profile_data(member, organization=riverside.id,
                                                          confirm_change=riverside.id))

    assert response["Location"] == "/application/"
    member.refresh_from_db()
    assert (member.organization, member.status) == (riverside, Member.Status.PENDING)
    application = Application.objects.get(member=member)
    assert (application.kind, application.organization, application.eligibility_category) == (
        Application.Kind.CHANGE, riverside, EligibilityBasis.NCTTP_MEMBER
    )
    assert application.statement == (
        "Changed organization on their profile from Cascade Center for Survivors to Riverside Refugee Health."
    )
    assert application.eligibility_evidence == [
        "The work email domain cascade.example.org is not a verified domain of Riverside Refugee Health "
        "(expected riverside.example.org)."
    ]
    audit = AuditRecord.objects.get()
    assert (audit.action, audit.actor, audit.subject) == ("member_reverification_required", None, member)
    notice = next(message for message in mailoutbox if message.to == [member.email])
    assert "cascade.example.org is not one of the email domains we know for Riverside Refugee Health" in notice.body
    assert client.get("/")["Location"] == "/application/"


def test_edit_profile_unlisted_organization_needs_its_name(client, member, django_capture_on_commit_callbacks):
    login(client, member)
    data = profile_data(member, organization="", confirm_change="unlisted")

    response = client.post("/profile/", data)

    assert "Type the name of your new organization." in response.content.decode()
    member.refresh_from_db()
    assert member.organization is not None

    with django_capture_on_commit_callbacks(execute=True):
        client.post("/profile/", {**data, "organization_name": "Harbor Clinic", "eligibility_category": "orr_funded",
                                  "organization_website": "harbor.example.org"})

    application = Application.objects.get(member=member)
    assert (application.organization, application.organization_name, application.organization_website) == (
        None, "Harbor Clinic", "https://harbor.example.org"
    )
    assert application.eligibility_category == EligibilityBasis.OTHER_ORR_FUNDED


def test_profile_shows_only_what_the_member_chose(client, member, member_factory):
    shown = member_factory(full_name="Rosa Private")
    shown.role_title, shown.bio, shown.areas_of_practice = "Case manager", "Bio text here", "Housing advocacy"
    shown.show_organization, shown.show_bio, shown.show_email = False, False, False
    shown.save()
    login(client, member)

    page = client.get(f"/members/{shown.id}/").content.decode()

    assert "Rosa Private" in page and "Case manager" in page
    for hidden in ("Cascade Center", "Bio text here", "Housing advocacy", shown.email):
        assert hidden not in page

    shown.show_organization, shown.show_bio, shown.show_email, shown.show_role = True, True, True, False
    shown.save()
    page = client.get(f"/members/{shown.id}/").content.decode()
    for visible in ("Cascade Center", "Bio text here", "Housing advocacy", shown.email):
        assert visible in page
    assert "Case manager" not in page


@pytest.mark.parametrize("status", [Member.Status.PENDING, Member.Status.LAPSED, Member.Status.DEPARTED,
                                    Member.Status.SUSPENDED])
def test_profile_of_someone_not_active_is_not_found(client, member, member_factory, status):
    login(client, member)

    assert client.get(f"/members/{member_factory(status=status).id}/").status_code == 404
