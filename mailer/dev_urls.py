from django.urls import path

from . import dev_views

urlpatterns = [
    path("mail/", dev_views.mailbox, name="dev_mailbox"),
    path("mail/<int:email_id>/", dev_views.detail, name="dev_mail_detail"),
    path("mail/<int:email_id>/reply/", dev_views.reply, name="dev_mail_reply"),
]
