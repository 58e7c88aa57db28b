from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tests.conftest import login
from threads.models import Attachment, EConsultation, Presenter, Webinar
from threads.webinars import submit_question

from .events_helpers import make_econsultation, make_webinar


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def webinar(db):
    webinar = make_webinar(
        title="Complex Care", tags=["trauma story", "biomedical", "psychological", "social", "spiritual"],
        registration_url="https://example.org/register", recording_url="https://example.org/recording",
        starts_at=datetime(2030, 3, 14, 12, 0, tzinfo=UTC),
        ends_at=datetime(2030, 3, 14, 13, 30, tzinfo=UTC),
    )
    Presenter.objects.create(webinar=webinar, name="Dr. Lena Marsh", role="Clinical psychologist",
                             organization="Prairie Healing Program", bio="Twenty years of group work.")
    return webinar


def _slide(webinar, content=b"%PDF-1.4 slides"):
    slide = Attachment(webinar=webinar, original_name="complex-care.pdf", content_type="application/pdf",
                       size=len(content))
    slide.file.save("upload", ContentFile(content))
    return slide


def test_webinar_page_shows_everything_about_the_webinar(member_client, webinar):
    slide = _slide(webinar)

    page = member_client.get(f"/events/{webinar.pk}/").content.decode()

    for text in ["Complex Care", "Dr. Lena Marsh", "Clinical psychologist, Prairie Healing Program",
                 "Twenty years of group work.", "spiritual", 'href="https://example.org/register"',
                 'href="https://example.org/recording"', f'href="/events/{webinar.pk}.ics"',
                 f'href="/events/{webinar.pk}/slides/{slide.pk}/"', "complex-care.pdf",
                 "No e-consultation is planned"]:
        assert text in page, text


def test_webinar_page_shows_times_in_the_webinars_and_the_sites_time_zone(member_client, webinar, settings):
    page = member_client.get(f"/events/{webinar.pk}/").content.decode()

    assert "Thursday, March 14, 2030, 7:00 AM CDT" in page  # America/Chicago, the webinar's
    assert "Thursday, March 14, 8:00 AM EDT" in page  # America/New_York, the site's
    assert 'data-local-time="2030-03-14T08:00:00-04:00"' in page


def test_webinar_page_unknown_is_404(member_client, db):
    assert member_client.get("/events/999999/").status_code == 404


def test_webinar_page_shows_econsultation_with_hosts_and_thread(member_client, moderator, webinar):
    econsultation = make_econsultation(moderator, EConsultation.LIVE, webinar=webinar)

    page = member_client.get(f"/events/{webinar.pk}/").content.decode()

    assert "Live now" in page
    assert f'href="{econsultation.thread.get_absolute_url()}"' in page
    assert "Mo Derator" in page


def test_webinar_page_offers_moderator_to_open_econsultation(client, moderator, webinar):
    login(client, moderator)

    assert f"/events/{webinar.pk}/e-consultation/new/" in client.get(f"/events/{webinar.pk}/").content.decode()


def test_webinar_slide_downloads_through_the_access_check(member_client, client, webinar):
    slide = _slide(webinar)
    url = f"/events/{webinar.pk}/slides/{slide.pk}/"

    response = member_client.get(url)

    assert b"".join(response.streaming_content) == b"%PDF-1.4 slides"
    assert response["Content-Disposition"] == 'inline; filename="complex-care.pdf"'
    client.logout()
    assert client.get(url)["Location"] == f"/accounts/login/?next={url}"


def test_webinar_slide_of_another_webinar_is_404(member_client, webinar):
    slide = _slide(make_webinar(title="Another"))

    assert member_client.get(f"/events/{webinar.pk}/slides/{slide.pk}/").status_code == 404


def test_event_list_shows_upcoming_and_past_with_state_badges(member_client, moderator, webinar):
    live = make_econsultation(moderator, EConsultation.LIVE)
    past = make_webinar(title="Sleep after torture", starts_at=timezone.now() - timedelta(days=60),
                        ends_at=None)

    response = member_client.get("/events/")

    assert list(response.context["upcoming"]) == [live.webinar, webinar]
    assert list(response.context["past"]) == [past]
    page = response.content.decode()
    assert "Live now" in page
    assert page.index("Complex Care") < page.index("Sleep after torture")


def test_event_list_query_count_is_constant(member_client, moderator, django_assert_num_queries):
    make_econsultation(moderator)
    make_webinar(starts_at=timezone.now() - timedelta(days=90), ends_at=None)
    # user and member; upcoming; the count and the page of past events
    with django_assert_num_queries(5):
        member_client.get("/events/")
    for _ in range(5):
        make_econsultation(moderator, EConsultation.CLOSED)
        make_webinar(starts_at=timezone.now() + timedelta(days=30))

    with django_assert_num_queries(5):
        member_client.get("/events/")


def _admin_form(**slide):
    return {
        "title": "Complex Care", "summary": "Five domains.", "starts_at_0": "2030-03-14", "starts_at_1": "12:00",
        "ends_at_0": "", "ends_at_1": "", "time_zone": "America/Chicago", "registration_url": "",
        "recording_url": "", "tags": "trauma story,biomedical",
        "presenter_set-TOTAL_FORMS": "1", "presenter_set-INITIAL_FORMS": "0",
        "presenter_set-0-name": "Dr. Lena Marsh", "presenter_set-0-role": "Psychologist",
        "presenter_set-0-position": "0",
        "slides-TOTAL_FORMS": "1", "slides-INITIAL_FORMS": "0",
        "slides-0-file": SimpleUploadedFile(**slide),
    }


@pytest.fixture
def admin_client(client, admin):
    admin.user.is_staff = admin.user.is_superuser = True
    admin.user.save()
    return login(client, admin)


def test_webinar_admin_adds_presenters_and_slides_inline(admin_client, admin):
    form = _admin_form(name="deck.pdf", content=b"%PDF-1.4 deck.", content_type="text/plain")

    response = admin_client.post("/admin/threads/webinar/add/", form)

    assert response.status_code == 302, response.context and response.context["errors"]
    webinar = Webinar.objects.get(title="Complex Care")
    assert webinar.tags == ["trauma story", "biomedical"]
    assert webinar.presenter_set.get().name == "Dr. Lena Marsh"
    assert webinar.slides.get().uploaded_by == admin
    slide = webinar.slides.get()
    assert (slide.original_name, slide.content_type, slide.size) == ("deck.pdf", "application/pdf", 14)


def test_webinar_admin_refuses_a_slide_that_is_not_what_its_name_says(admin_client):
    form = _admin_form(name="deck.pdf", content=b"MZ\x90\x00 not a pdf", content_type="application/pdf")

    response = admin_client.post("/admin/threads/webinar/add/", form)

    assert response.status_code == 200
    assert "does not contain what its name says" in response.content.decode()
    assert not Webinar.objects.exists()


def test_webinar_page_query_count_is_constant(member_client, member, moderator, webinar,
                                               django_assert_num_queries):
    econsultation = make_econsultation(moderator, EConsultation.OPEN, webinar=webinar)
    submit_question(author=member, econsultation=econsultation, body="A first question")
    # user and member; webinar with its e-consultation; presenters, slides and hosts; questions
    with django_assert_num_queries(7):
        member_client.get(f"/events/{webinar.pk}/")
    for n in range(5):
        Presenter.objects.create(webinar=webinar, name=f"Presenter {n}", member=member)
        _slide(webinar)
        submit_question(author=member, econsultation=econsultation, body=f"Question {n}")

    with django_assert_num_queries(7):
        member_client.get(f"/events/{webinar.pk}/")
