from django.contrib import admin

from .models import Category, EConsultation, Post, Thread, Webinar

admin.site.register(Category)
admin.site.register(Thread)
admin.site.register(Post)
admin.site.register(Webinar)
admin.site.register(EConsultation)
