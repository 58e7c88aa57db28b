"""Moderators keep webinars in the Django admin: presenters and slides edited inline on the webinar."""

from pathlib import PurePath

from django import forms
from django.contrib import admin
from django.db import models

from .attachments import check_upload
from .models import Attachment, EConsultation, Presenter, Webinar


class PresenterInline(admin.StackedInline):
    model = Presenter
    extra = 1
    fields = ["name", "role", "organization", "bio", "member", "position"]
    raw_id_fields = ["member"]


class SlideForm(forms.ModelForm):
    class Meta:
        model = Attachment
        fields = ["file"]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if "file" in self.changed_data:
            # The same kinds and size limit as attachments on posts; the type is what the file holds.
            kind = check_upload(upload)
            self.instance.original_name = PurePath(upload.name).name[:255]
            self.instance.content_type, self.instance.size = kind.content_type, upload.size
        return upload


class SlideInline(admin.TabularInline):
    model = Attachment
    form = SlideForm
    fk_name = "webinar"
    extra = 1
    verbose_name, verbose_name_plural = "slide file", "slides"
    readonly_fields = ["original_name", "size"]


@admin.register(Webinar)
class WebinarAdmin(admin.ModelAdmin):
    list_display = ["title", "starts_at", "time_zone"]
    search_fields = ["title"]
    fields = ["title", "summary", "starts_at", "ends_at", "time_zone", "registration_url", "recording_url", "tags"]
    inlines = [PresenterInline, SlideInline]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, models.URLField):
            kwargs["assume_scheme"] = "https"  # a registration link typed without a scheme is an https one
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def save_formset(self, request, form, formset, change):
        for slide in formset.save(commit=False):
            if isinstance(slide, Attachment) and slide.uploaded_by_id is None:
                slide.uploaded_by = request.member
            slide.save()
        for removed in formset.deleted_objects:
            removed.delete()
        formset.save_m2m()


@admin.register(EConsultation)
class EConsultationAdmin(admin.ModelAdmin):
    list_display = ["webinar", "questions_open_at", "live_starts_at", "live_ends_at", "summarised_at"]
    raw_id_fields = ["thread", "hosts", "summarised_by"]
    readonly_fields = ["summary_html", "summarised_at", "summarised_by"]
