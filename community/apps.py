from django.apps import AppConfig


class CommunityConfig(AppConfig):
    name = "community"
    verbose_name = "Community"

    def ready(self):
        from . import receivers  # noqa: F401  (connects our listeners to allauth's hooks)
