"""The shared front end (perfplat.frontend): JSON or HTML answers to unknown URLs and server
errors, the page template, and the GOV.UK component includes rendering Django forms."""

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.template import engines
from django.test.html import parse_html

from helpers import body
from perfplat.frontend import views

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def contains_html(html: str, fragment: str) -> bool:
    """Whether the rendered html holds the fragment, compared as HTML (attribute and class order
    and whitespace do not matter)."""
    return parse_html(html).count(parse_html(fragment)) > 0


def render(template: str, context: dict, request=None) -> str:
    return engines["django"].from_string(template).render(context, request)


# unknown URLs


@pytest.mark.parametrize("accept", [None, "*/*", "application/json", "text/csv, */*"])
def test_unknown_url_answers_json_to_clients_that_do_not_ask_for_html(client, accept):
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}

    response = client.get("/no-such-page", **headers)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response["Access-Control-Allow-Origin"] == "*"
    assert body(response) == {"status": "error", "message": "Nothing here: /no-such-page"}


@pytest.mark.parametrize("path", ["/data/only-a-group", "/_status/unknown", "/api/nothing"])
def test_unknown_api_url_answers_json_even_to_a_browser(client, path):
    response = client.get(path, HTTP_ACCEPT=BROWSER_ACCEPT)

    assert response.status_code == 404
    assert body(response) == {"status": "error", "message": f"Nothing here: {path}"}


@pytest.mark.parametrize("accept", [BROWSER_ACCEPT, "text/html", "application/xhtml+xml"])
def test_unknown_url_answers_the_not_found_page_to_a_browser(client, accept):
    response = client.get("/no-such-page", HTTP_ACCEPT=accept)

    assert response.status_code == 404
    assert response["Content-Type"] == "text/html; charset=utf-8"
    html = response.content.decode()
    assert "<title>Page not found - Performance Platform</title>" in html
    assert contains_html(html, '<h1 class="govuk-heading-l">Page not found</h1>')


def test_html_refused_by_quality_zero_is_not_asked_for(client):
    response = client.get("/no-such-page", HTTP_ACCEPT="text/html;q=0, */*")

    assert response["Content-Type"] == "application/json"


def test_page_view_raising_http404_shows_the_not_found_page(rf, db):
    request = rf.get("/services/nope", HTTP_ACCEPT=BROWSER_ACCEPT)

    response = views.page_not_found(request, exception=None)

    assert response.status_code == 404
    assert contains_html(
        response.content.decode(), "<title>Page not found - Performance Platform</title>"
    )


# server errors


def test_server_error_on_a_page_is_the_govuk_problem_page(rf):
    response = views.server_error(rf.get("/services", HTTP_ACCEPT=BROWSER_ACCEPT))

    assert response.status_code == 500
    html = response.content.decode()
    assert contains_html(
        html,
        '<h1 class="govuk-heading-l">Sorry, there is a problem with the service</h1>',
    )
    # Rendered without the request, so nothing about the (maybe broken) session shows.
    assert "Sign in" not in html
    assert "Sign out" not in html


def test_server_error_on_the_api_is_json(rf):
    response = views.server_error(rf.get("/data/a/b", HTTP_ACCEPT=BROWSER_ACCEPT))

    assert (response.status_code, body(response)) == (
        500,
        {"status": "error", "message": "Internal server error"},
    )


# the page template


def test_home_page_has_its_heading_and_a_link_to_the_services(client, db):
    response = client.get("/", HTTP_ACCEPT=BROWSER_ACCEPT)

    assert response.status_code == 200
    html = response.content.decode()
    assert "<title>Performance Platform</title>" in html
    assert contains_html(html, '<h1 class="govuk-heading-xl">Performance Platform</h1>')
    assert contains_html(html, '<a class="govuk-link" href="/services">Browse services</a>')


def test_page_title_ends_with_the_service_name(rf, db):
    page = '{% extends "frontend/base.html" %}{% block page_title %}Services{% endblock %}'

    html = render(page, {}, rf.get("/services"))

    assert "<title>Services - Performance Platform</title>" in html


def test_page_title_starts_with_error_when_the_form_has_errors(rf, db):
    page = '{% extends "frontend/base.html" %}{% block page_title %}Register{% endblock %}'

    html = render(page, {"form": ServiceForm({})}, rf.get("/manage/register"))

    assert "<title>Error: Register - Performance Platform</title>" in html


def test_navigation_marks_the_current_section(rf, db):
    html = render('{% extends "frontend/base.html" %}', {}, rf.get("/services/apply-for-a-licence"))

    assert contains_html(
        html,
        '<li class="govuk-service-navigation__item govuk-service-navigation__item--active">'
        '<a class="govuk-service-navigation__link" href="/services" aria-current="true">'
        '<strong class="govuk-service-navigation__active-fallback">Services</strong></a></li>',
    )


# forms: the error summary and fields


class ServiceForm(forms.Form):
    name = forms.CharField(
        label="Service name",
        help_text="The name people know it by",
        error_messages={"required": "Enter the service name"},
    )
    phase = forms.ChoiceField(
        label="Phase",
        choices=[("", "Choose a phase"), ("alpha", "Alpha"), ("beta", "Beta")],
        error_messages={"required": "Select the service's phase"},
    )
    channels = forms.MultipleChoiceField(
        label="Channels",
        widget=forms.CheckboxSelectMultiple,
        choices=[("digital", "Digital"), ("phone", "Phone")],
        error_messages={"required": "Select at least one channel"},
    )
    description = forms.CharField(label="Description", widget=forms.Textarea, required=False)
    published = forms.BooleanField(label="Publish the dashboard", required=False)
    token = forms.CharField(widget=forms.HiddenInput, required=False)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("published"):
            raise ValidationError("A dashboard cannot be published before it has data")
        return cleaned


def error_summary(form) -> str:
    return render('{% include "frontend/components/error_summary.html" %}', {"form": form})


def field(bound_field, **options) -> str:
    return render(
        '{% include "frontend/components/field.html" %}', {"field": bound_field, **options}
    )


def test_error_summary_links_each_error_to_its_field():
    form = ServiceForm({"published": "on"})

    html = error_summary(form)

    assert contains_html(
        html,
        """
        <div class="govuk-error-summary" data-module="govuk-error-summary">
          <div role="alert">
            <h2 class="govuk-error-summary__title">There is a problem</h2>
            <div class="govuk-error-summary__body">
              <ul class="govuk-list govuk-error-summary__list">
                <li>A dashboard cannot be published before it has data</li>
                <li><a href="#id_name">Enter the service name</a></li>
                <li><a href="#id_phase">Select the service's phase</a></li>
                <li><a href="#id_channels">Select at least one channel</a></li>
              </ul>
            </div>
          </div>
        </div>
        """,
    )


def test_error_summary_of_a_valid_or_unbound_form_is_empty():
    valid = ServiceForm({"name": "Apply", "phase": "beta", "channels": ["phone"]})

    assert (error_summary(valid).strip(), error_summary(ServiceForm()).strip()) == ("", "")


def test_input_with_an_error_has_the_govuk_error_classes_and_description():
    form = ServiceForm({})

    html = field(form["name"])

    assert contains_html(
        html,
        """
        <div class="govuk-form-group govuk-form-group--error">
          <label class="govuk-label" for="id_name">Service name</label>
          <div id="id_name-hint" class="govuk-hint">The name people know it by</div>
          <p id="id_name-error" class="govuk-error-message">
            <span class="govuk-visually-hidden">Error:</span> Enter the service name
          </p>
          <input type="text" name="name" class="govuk-input govuk-input--error"
            aria-describedby="id_name-hint id_name-error" aria-invalid="true" required
            id="id_name">
        </div>
        """,
    )


def test_select_with_an_error_has_the_select_error_class():
    html = field(ServiceForm({})["phase"])

    assert contains_html(
        html,
        '<p id="id_phase-error" class="govuk-error-message">'
        '<span class="govuk-visually-hidden">Error:</span> Select the service\'s phase</p>',
    )
    assert 'class="govuk-select govuk-select--error"' in html
    assert 'aria-describedby="id_phase-error"' in html


def test_checkboxes_are_a_fieldset_whose_first_option_has_the_field_id():
    html = field(ServiceForm({})["channels"])

    assert contains_html(
        html,
        """
        <div class="govuk-form-group govuk-form-group--error">
          <fieldset class="govuk-fieldset" aria-describedby="id_channels-error">
            <legend class="govuk-fieldset__legend">Channels</legend>
            <p id="id_channels-error" class="govuk-error-message">
              <span class="govuk-visually-hidden">Error:</span> Select at least one channel
            </p>
            <div class="govuk-checkboxes" data-module="govuk-checkboxes">
              <div class="govuk-checkboxes__item">
                <input class="govuk-checkboxes__input" id="id_channels" name="channels"
                  type="checkbox" value="digital">
                <label class="govuk-label govuk-checkboxes__label" for="id_channels">Digital</label>
              </div>
              <div class="govuk-checkboxes__item">
                <input class="govuk-checkboxes__input" id="id_channels_1" name="channels"
                  type="checkbox" value="phone">
                <label class="govuk-label govuk-checkboxes__label" for="id_channels_1">Phone</label>
              </div>
            </div>
          </fieldset>
        </div>
        """,
    )


def test_checked_options_stay_checked():
    html = field(ServiceForm({"channels": ["phone"]})["channels"])

    assert contains_html(
        html,
        '<input class="govuk-checkboxes__input" id="id_channels_1" name="channels"'
        ' type="checkbox" value="phone" checked>',
    )


def test_optional_field_says_so_and_has_no_error_classes():
    html = field(ServiceForm({})["description"], size="m", classes="govuk-!-width-two-thirds")

    assert contains_html(
        html,
        """
        <div class="govuk-form-group">
          <label class="govuk-label govuk-label--m" for="id_description">
            Description (optional)
          </label>
          <textarea name="description" cols="40" rows="10"
            class="govuk-textarea govuk-!-width-two-thirds" id="id_description"></textarea>
        </div>
        """,
    )


def test_label_can_be_the_page_heading():
    html = field(ServiceForm()["name"], page_heading=True, size="l")

    assert contains_html(
        html,
        '<h1 class="govuk-label-wrapper"><label class="govuk-label govuk-label--l" for="id_name">'
        "Service name</label></h1>",
    )


def test_single_checkbox_has_its_label_after_the_input():
    html = field(ServiceForm()["published"])

    assert contains_html(
        html,
        """
        <div class="govuk-checkboxes__item">
          <input type="checkbox" name="published" class="govuk-checkboxes__input"
            id="id_published">
          <label class="govuk-label govuk-checkboxes__label" for="id_published">
            Publish the dashboard
          </label>
        </div>
        """,
    )


def test_hidden_field_is_only_its_input():
    html = field(ServiceForm()["token"])

    assert contains_html(html, '<input type="hidden" name="token" id="id_token">')
    assert "govuk-form-group" not in html


# other components


@pytest.mark.parametrize(
    ("phase", "tag"),
    [
        ("discovery", '<strong class="govuk-tag govuk-tag--purple">Discovery</strong>'),
        ("alpha", '<strong class="govuk-tag govuk-tag--pink">Alpha</strong>'),
        ("beta", '<strong class="govuk-tag">Beta</strong>'),
        ("live", '<strong class="govuk-tag govuk-tag--green">Live</strong>'),
        ("retired", '<strong class="govuk-tag govuk-tag--grey">Retired</strong>'),
    ],
)
def test_each_phase_has_its_own_tag_colour(phase, tag):
    html = render('{% include "frontend/components/tag.html" %}', {"phase": phase})

    assert parse_html(html) == parse_html(tag)


def test_summary_list_rows_without_an_action_keep_the_column_when_others_have_one():
    rows = [
        {"key": "Name", "value": "Apply for a licence", "href": "/manage/name"},
        {"key": "Phase", "value": "Beta"},
    ]

    html = render('{% include "frontend/components/summary_list.html" %}', {"rows": rows})

    assert contains_html(
        html,
        """
        <dl class="govuk-summary-list">
          <div class="govuk-summary-list__row">
            <dt class="govuk-summary-list__key">Name</dt>
            <dd class="govuk-summary-list__value">Apply for a licence</dd>
            <dd class="govuk-summary-list__actions">
              <a class="govuk-link" href="/manage/name">Change<span class="govuk-visually-hidden">
                name</span></a>
            </dd>
          </div>
          <div class="govuk-summary-list__row govuk-summary-list__row--no-actions">
            <dt class="govuk-summary-list__key">Phase</dt>
            <dd class="govuk-summary-list__value">Beta</dd>
          </div>
        </dl>
        """,
    )


def test_table_right_aligns_numeric_columns_and_heads_rows():
    context = {
        "caption": "Transactions",
        "head": ["Week", "Count"],
        "rows": [["1 January 2024", "1,200"]],
        "numeric": [1],
        "first_cell_is_header": True,
    }

    html = render('{% include "frontend/components/table.html" %}', context)

    assert contains_html(
        html,
        """
        <table class="govuk-table">
          <caption class="govuk-table__caption govuk-table__caption--m">Transactions</caption>
          <thead class="govuk-table__head">
            <tr class="govuk-table__row">
              <th scope="col" class="govuk-table__header">Week</th>
              <th scope="col" class="govuk-table__header govuk-table__header--numeric">Count</th>
            </tr>
          </thead>
          <tbody class="govuk-table__body">
            <tr class="govuk-table__row">
              <th scope="row" class="govuk-table__header">1 January 2024</th>
              <td class="govuk-table__cell govuk-table__cell--numeric">1,200</td>
            </tr>
          </tbody>
        </table>
        """,
    )
