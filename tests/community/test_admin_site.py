from community.models import Member
from tests.conftest import enable_totp, login


def test_admin_site_requires_a_second_factor(client, member_factory):
    admin = member_factory(role=Member.Role.ADMIN)
    admin.user.is_staff = admin.user.is_superuser = True
    admin.user.save()
    login(client, admin)

    assert client.get("/admin/community/member/").status_code == 302

    enable_totp(admin.user)
    assert client.get("/admin/community/member/").status_code == 200
