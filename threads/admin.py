from django.contrib import admin

from . import webinar_admin  # noqa: F401  (webinars, presenters and slides)
from .models import Category, Post, Thread

admin.site.register(Category)
admin.site.register(Thread)
admin.site.register(Post)
