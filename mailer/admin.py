from django.contrib import admin

from .models import DigestLog, InboundMessage, MailPreference, OutboundMessage

admin.site.register(MailPreference)
admin.site.register(OutboundMessage)
admin.site.register(DigestLog)
admin.site.register(InboundMessage)
