from .models import Application


def pending_applications():
    return (
        Application.objects.filter(status=Application.Status.PENDING)
        .select_related("member__user", "organization")
        .order_by("submitted_at")
    )


def latest_application(member):
    return member.applications.order_by("-submitted_at").first() if member else None
