from django.contrib import admin

from . import webinar_admin  # noqa: F401  (webinars, presenters and slides)
from .models import Category, Post, Thread


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "position", "moderators_only", "allow_anonymous", "web_only"]
    list_editable = ["allow_anonymous", "web_only"]


admin.site.register(Thread)
admin.site.register(Post)
