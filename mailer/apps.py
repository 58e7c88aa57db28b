from django.apps import AppConfig


class MailerConfig(AppConfig):
    name = "mailer"
    verbose_name = "Mailing list"

    def ready(self):
        from . import receivers  # noqa: F401  (connects our listeners to threads/community/anymail events)
