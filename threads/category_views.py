from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render

from community.mfa import moderator_required

from .category_settings import update_category_settings
from .models import Category


class CategorySettingsForm(forms.ModelForm):
    class Meta:
        model = Category
        fields = ["allow_anonymous", "web_only"]
        labels = {"allow_anonymous": "Members may post anonymously",
                  "web_only": "Web only: never email the posts in full"}


@moderator_required
def category_settings(request):
    """One small form per category; a POST names the category it changes."""
    categories = list(Category.objects.order_by("position", "name"))
    changed_id = request.POST.get("category") if request.method == "POST" else None
    forms_by_category = []
    for category in categories:
        bound = str(category.pk) == changed_id
        form = CategorySettingsForm(request.POST if bound else None, instance=category, prefix=f"c{category.pk}")
        if bound and form.is_valid():
            update_category_settings(moderator=request.member, category_id=category.pk, **form.cleaned_data)
            messages.success(request, f"Settings of “{category.name}” saved.")
            return redirect("category_settings")
        forms_by_category.append((category, form))
    return render(request, "threads/category_settings.html", {"forms": forms_by_category})
