"""Module pages, embed pages and their framing headers, the bulk download (a Frictionless Data
Package, validated with the `frictionless` package), feedback, and the pages every public site
owes (accessibility, privacy, cookies, open data) with the footer links to them.

The platform is tests/public_fixtures.py; now is 10 February 2025, so figures are for January.
"""

import csv
import io
import json
import re
import zipfile

import pytest
from django.core import mail

from helpers import body
from perfplat.accounts.services import create_user
from perfplat.feedback.models import Feedback
from perfplat.kpis import services as kpi_services
from perfplat.notifications.models import Message
from perfplat.notifications.services import deliver_pending
from perfplat.public import caching
from public_fixtures import NOW, build_public_world, correct_renew

HTML = "text/html,application/xhtml+xml"


@pytest.fixture(autouse=True)
def fixed_now(monkeypatch):
    monkeypatch.setattr(kpi_services, "current_time", lambda: NOW)


@pytest.fixture(autouse=True)
def empty_cache():
    caching.cache().clear()
    yield
    caching.cache().clear()


@pytest.fixture
def world(db):
    return build_public_world()


def page(client, url, status=200):
    response = client.get(url, HTTP_ACCEPT=HTML)
    assert response.status_code == status, response.content[:2000]
    return response


def text_of(html) -> str:
    if not isinstance(html, str):
        html = html.content.decode()
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# module pages


def test_each_module_has_its_own_page_numbered_as_on_the_dashboard(client, world):
    text = text_of(page(client, "/services/renew/modules/3"))
    assert "Renew a licence, module 3 of 8" in text
    assert "Transactions by channel" in text
    assert "Show the data as a table" in text
    assert "Download transactions by channel as CSV" in text
    assert "Previous module : 2. Transactions per week" in text
    assert "Next module : 4. Transactions by channel per quarter" in text
    html = page(client, "/services/renew/modules/3").content.decode()
    assert 'href="/services/renew/modules/3.csv"' in html


def test_module_1_is_the_kpi_tiles(client, world):
    text = text_of(page(client, "/services/renew/modules/1"))
    assert "module 1 of 8" in text
    assert "Key performance indicators" in text and "Digital take-up 75.0%" in text
    assert "Show figures for the latest complete" in text


def test_the_dashboard_numbers_its_modules_and_offers_their_pages(client, world):
    html = page(client, "/services/renew").content.decode()
    assert re.findall(r"app-module__number\">Module (\d+)<", html) == [str(n) for n in range(1, 9)]
    assert 'href="/services/renew/modules/1">Module 1 on its own page' in html
    assert 'href="/services/renew/modules/8">Module 8 on its own page' in html


def test_unknown_modules_and_services_are_404(client, world):
    page(client, "/services/renew/modules/9", status=404)
    page(client, "/services/renew/modules/0", status=404)
    page(client, "/services/secret/modules/1", status=404)
    page(client, "/embed/services/secret", status=404)
    page(client, "/embed/services/renew/modules/9", status=404)


# embeds


def test_embed_pages_may_be_framed_by_any_site_and_have_no_header_footer_or_script(client, world):
    for url in ("/embed/services/renew", "/embed/services/renew/modules/2"):
        response = page(client, url)
        assert "X-Frame-Options" not in response
        policy = response["Content-Security-Policy"]
        assert "frame-ancestors *" in policy
        assert "script-src 'self'" in policy
        html = response.content.decode()
        assert "<script" not in html
        assert "govuk-header" not in html and "govuk-footer" not in html
        assert "govuk-frontend.min.css" in html
        assert 'href="http://testserver/services/renew" target="_blank"' in html


def test_every_other_page_refuses_to_be_framed(client, world):
    for url in ("/", "/services/renew", "/services/renew/modules/2", "/corrections", "/cookies"):
        response = client.get(url, HTTP_ACCEPT=HTML)
        assert response["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


def test_the_content_security_policy_allows_only_this_sites_scripts_and_styles(client, world):
    policy = page(client, "/services/renew")["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    html = page(client, "/services/renew").content.decode()
    # No inline script: GOV.UK Frontend's snippets are files.
    assert re.findall(r"<script[^>]*>", html) == [
        '<script src="/static/frontend/js-enabled.js">',
        '<script type="module" src="/static/frontend/init.js">',
    ]


def test_the_embed_snippet_is_on_the_dashboard_and_module_pages(client, world):
    html = page(client, "/services/renew").content.decode()
    assert (
        "&lt;iframe src=&quot;http://testserver/embed/services/renew&quot; "
        "title=&quot;Key performance indicators: Renew a licence (Performance Platform)&quot;"
    ) in html
    assert "&lt;iframe src=&quot;http://testserver/embed/services/renew/modules/2&quot;" in html
    module = page(client, "/services/renew/modules/5").content.decode()
    assert "&lt;iframe src=&quot;http://testserver/embed/services/renew/modules/5&quot;" in module


def test_the_kpi_tiles_module_has_data_twins(client, world):
    payload = body(client.get("/services/renew/modules/1.json?period=quarter"))
    assert (payload["number"], payload["kind"], payload["period"]) == (1, "kpis", "quarter")
    rows = list(csv.DictReader(io.StringIO(client.get("/services/renew/modules/1.csv").text)))
    assert {row["kpi"] for row in rows} >= {"digital_take_up", "cost_per_transaction"}


# the bulk download


def unzip(client, tmp_path):
    response = client.get("/data.zip")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    archive.extractall(tmp_path)
    return archive, json.loads(archive.read("datapackage.json"))


def test_the_data_package_validates_with_frictionless(client, world, tmp_path):
    from frictionless import validate

    correct_renew(world)
    _, descriptor = unzip(client, tmp_path)
    report = validate(tmp_path / "datapackage.json")
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    assert descriptor["licenses"] == [
        {
            "name": "OGL-UK-3.0",
            "title": "Open Government Licence v3.0",
            "path": "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
        }
    ]


def test_the_data_package_holds_every_published_data_set_of_public_services(
    client, world, tmp_path
):
    archive, descriptor = unzip(client, tmp_path)
    paths = {resource["path"] for resource in descriptor["resources"]}
    assert paths == {
        "data/renew/transactions-by-channel.csv",
        "data/renew/cost.csv",
        "data/renew/user-satisfaction.csv",
        "data/renew/completion.csv",
        "data/book/transactions-by-channel.csv",
        "data/jab/transactions-by-channel.csv",
        "kpis/week.csv",
        "kpis/month.csv",
        "kpis/quarter.csv",
        "kpis/rolling-year.csv",
        "corrections.csv",
    }
    # secret's data is published but its dashboard is not; pothole has a draft only.
    assert not any("secret" in path or "pothole" in path for path in archive.namelist())
    cost = next(r for r in descriptor["resources"] if r["name"] == "renew-cost")
    assert cost["schema"]["fields"] == [
        {"name": "_id", "type": "string", "description": "The record's id"},
        {
            "name": "_timestamp",
            "type": "datetime",
            "description": "The start of the period the record describes (UTC)",
        },
        {"name": "amount", "type": "number", "description": "Cost in pounds"},
        {
            "name": "channel",
            "type": "string",
            "description": "The channel the cost is for; all when not given",
        },
        {
            "name": "period",
            "type": "string",
            "description": "The period the record describes, starting at its _timestamp",
        },
    ]
    assert cost["sources"] == [
        {
            "title": "Renew a licence (Licensing Agency)",
            "path": "http://127.0.0.1:8000/data/renew/cost",
        }
    ]
    rows = list(csv.DictReader(io.StringIO(archive.read("data/renew/cost.csv").decode())))
    assert [(row["_timestamp"], row["amount"]) for row in rows] == [
        ("2024-12-01T00:00:00+00:00", "1000"),
        ("2025-01-01T00:00:00+00:00", "800"),
    ]


def test_the_kpi_tables_hold_every_public_services_kpis(client, world, tmp_path):
    archive, descriptor = unzip(client, tmp_path)
    rows = list(csv.DictReader(io.StringIO(archive.read("kpis/month.csv").decode())))
    january = {
        (row["slug"], row["kpi"]): row["value"]
        for row in rows
        if row["start_at"] == "2025-01-01T00:00:00+00:00" and not row["channel"]
    }
    assert january[("renew", "digital_take_up")] == "0.75"
    assert january[("jab", "digital_take_up")] == "0.5"
    kpis = next(r for r in descriptor["resources"] if r["name"] == "kpis-month")
    assert "cost per transaction" in kpis["description"]


def test_the_data_package_is_rebuilt_when_published_data_changes(client, world, tmp_path):
    first = client.get("/data.zip").content
    assert client.get("/data.zip").content == first  # from the cache
    correct_renew(world)
    second = zipfile.ZipFile(io.BytesIO(client.get("/data.zip").content))
    rows = list(csv.DictReader(io.StringIO(second.read("corrections.csv").decode())))
    assert [(row["service"], row["before"], row["after"]) for row in rows] == [
        ("renew", "200", "210")
    ]


# feedback


@pytest.fixture
def people(world):
    admin = create_user(None, "admin@example.gov.uk", "platform-admin", password="x" * 12)
    editor = create_user(
        None, "la-editor@example.gov.uk", "editor", organisation=world.licensing, password="x" * 12
    )
    other = create_user(
        None, "doh@example.gov.uk", "editor", organisation=world.health, password="x" * 12
    )
    return admin, editor, other


def test_dashboard_feedback_is_stored_and_sent_to_the_team_and_the_platform(client, world, people):
    admin, editor, _ = people
    html = page(client, "/services/renew").content.decode()
    assert 'href="/feedback?service=renew&amp;page=/services/renew"' in html
    form = page(client, "/feedback?service=renew&page=/services/renew")
    assert "Is this dashboard useful?" in text_of(form)
    response = client.post(
        "/feedback?service=renew",
        {"useful": "no", "message": "I could not find the costs", "page": "/services/renew"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/feedback/sent?service=renew"
    feedback = Feedback.objects.get()
    assert (feedback.service, feedback.useful, feedback.message, feedback.page) == (
        world.renew,
        "no",
        "I could not find the costs",
        "/services/renew",
    )
    message = Message.objects.get(kind="feedback")
    assert message.addresses == ["admin@example.gov.uk", "la-editor@example.gov.uk"]
    assert message.subject == "Feedback on the dashboard of Renew a licence"
    deliver_pending()
    [sent] = mail.outbox
    assert "Is this dashboard useful? No" in sent.body
    assert "I could not find the costs" in sent.body


def test_feedback_on_the_platform_goes_to_the_platform_team(client, world, people):
    client.post("/feedback", {"message": "Very clear", "page": "/services"})
    message = Message.objects.get(kind="feedback")
    assert message.addresses == ["admin@example.gov.uk"]
    assert message.subject == "Feedback on the Performance Platform"


def test_empty_or_too_long_feedback_is_refused_with_the_error_summary(client, world, people):
    response = client.post("/feedback?service=renew", {"message": ""})
    assert response.status_code == 200
    assert "Choose yes or no, or tell us what you think" in text_of(response)
    assert "govuk-error-summary" in response.content.decode()
    response = client.post("/feedback", {"message": "x" * 2001})
    assert "Your feedback must be 2000 characters or fewer" in text_of(response)
    assert Feedback.objects.count() == 0


def test_only_a_path_on_this_site_is_kept_as_the_page(client, world, people):
    client.post("/feedback", {"message": "Hi", "page": "https://evil.example/x"})
    assert Feedback.objects.get().page == ""


def test_the_team_reads_its_services_feedback_in_manage(client, world, people):
    admin, editor, other = people
    client.post("/feedback?service=renew", {"useful": "yes"})
    client.post("/feedback", {"message": "About the platform"})
    client.force_login(editor)
    assert "Renew a licence" in text_of(page(client, "/manage/feedback"))
    assert "About the platform" not in text_of(page(client, "/manage/feedback"))
    client.force_login(other)
    assert "No feedback yet." in text_of(page(client, "/manage/feedback"))
    client.force_login(admin)
    assert "About the platform" in text_of(page(client, "/manage/feedback"))


# the pages every public site owes


@pytest.mark.parametrize(
    ("url", "heading"),
    [
        ("/accessibility", "Accessibility statement for the Performance Platform"),
        ("/privacy", "Privacy notice"),
        ("/cookies", "Cookies"),
        ("/open-data", "Open data"),
    ],
)
def test_the_pages_every_public_site_owes_are_linked_from_every_footer(client, world, url, heading):
    assert f'<h1 class="govuk-heading-xl">{heading}</h1>' in page(client, url).content.decode()
    for source in ("/", "/services/renew", "/manage/sign-in"):
        html = client.get(source, HTTP_ACCEPT=HTML).content.decode()
        assert f'<a class="govuk-footer__link" href="{url}">' in html


def test_the_cookies_page_names_the_cookies_as_configured(client, world, settings):
    settings.SESSION_COOKIE_NAME = "__Host-session"
    text = text_of(page(client, "/cookies"))
    assert "__Host-session When a service team member signs in" in text
    assert "csrftoken When a page shows a form" in text


def test_the_phase_banner_links_to_feedback_about_the_page(client, world):
    html = page(client, "/services").content.decode()
    assert 'Your <a class="govuk-link" href="/feedback?page=/services">feedback</a>' in html
