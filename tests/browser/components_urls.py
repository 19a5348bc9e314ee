"""A page that uses every include of templates/frontend/components/, served only to the browser
tests (`@pytest.mark.urls("browser.components_urls")`), so that each component is checked in a
real browser and by axe, with and without form errors."""

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.template import engines
from django.urls import path
from django.utils.html import format_html

from perfplat import urls


class ServiceForm(forms.Form):
    name = forms.CharField(
        label="Service name",
        help_text="The name people know it by",
        max_length=100,
        error_messages={"required": "Enter the service name"},
    )
    description = forms.CharField(label="Description", widget=forms.Textarea, required=False)
    phase = forms.ChoiceField(
        label="Phase",
        choices=[("", "Choose a phase"), ("alpha", "Alpha"), ("beta", "Beta"), ("live", "Live")],
        error_messages={"required": "Select the service's phase"},
    )
    channels = forms.MultipleChoiceField(
        label="Channels",
        help_text="Select all that apply",
        widget=forms.CheckboxSelectMultiple,
        choices=[("digital", "Digital"), ("phone", "Phone"), ("paper", "Paper")],
        error_messages={"required": "Select at least one channel"},
    )
    audience = forms.ChoiceField(
        label="Who uses the service",
        widget=forms.RadioSelect,
        choices=[("public", "The public"), ("business", "Businesses")],
        error_messages={"required": "Select who uses the service"},
    )
    spreadsheet = forms.FileField(label="Spreadsheet", required=False)
    published = forms.BooleanField(label="Publish the dashboard", required=False)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("published"):
            raise ValidationError("A dashboard cannot be published before it has data")
        return cleaned


PAGE = engines["django"].from_string(
    """{% extends "frontend/base.html" %}
{% block page_title %}Register a service{% endblock %}
{% block before_content %}{% include "frontend/components/breadcrumbs.html" %}{% endblock %}
{% block content %}
{% include "frontend/components/error_summary.html" %}
<h1 class="govuk-heading-l">Register a service</h1>
<form method="post" enctype="multipart/form-data" novalidate>
  {% csrf_token %}
  {% for field in form %}{% include "frontend/components/field.html" %}{% endfor %}
  <button type="submit" class="govuk-button" data-module="govuk-button">Continue</button>
</form>
<h2 class="govuk-heading-m">Summary</h2>
{% include "frontend/components/summary_list.html" with rows=summary_rows %}
{% include "frontend/components/table.html" with rows=table_rows %}
<h2 class="govuk-heading-m">Phases</h2>
<ul class="govuk-list">
  {% for phase in phases %}<li>{% include "frontend/components/tag.html" %}</li>{% endfor %}
  <li>{% include "frontend/components/tag.html" with phase="" text="Stale" classes=stale %}</li>
</ul>
{% endblock %}
"""
)


def components_view(request):
    form = ServiceForm(request.POST or None, request.FILES or None)
    if form.is_bound:
        form.is_valid()
    context = {
        "form": form,
        "breadcrumbs": [("Home", "/"), ("Manage", "/manage/")],
        "summary_rows": [
            {"key": "Name", "value": "Apply for a licence", "href": "#id_name"},
            {
                "key": "Start page",
                "value": format_html('<a class="govuk-link" href="{}">{}</a>', "/", "Start"),
            },
            {"key": "Description", "value": None, "href": "#id_description", "action": "Add"},
        ],
        "caption": "Transactions by channel",
        "head": ["Week", "Digital", "Phone"],
        "table_rows": [["1 January 2024", "1,200", "300"], ["8 January 2024", "1,400", "250"]],
        "numeric": [1, 2],
        "first_cell_is_header": True,
        "phases": ["discovery", "alpha", "beta", "live", "retired"],
        "stale": "govuk-tag--red",
    }
    return HttpResponse(PAGE.render(context, request))


urlpatterns = [path("components", components_view), *urls.urlpatterns]
handler404 = urls.handler404
handler500 = urls.handler500
