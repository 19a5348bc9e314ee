"""Every "what to do next" of the readiness report links to the page that does it: in each state
a service passes through on its way (nothing yet, a half-made catalogue with unpublished data,
a published dashboard without a draft, an earlier assessment, retired), each step's link opens a
page for the team (200, not a redirect or a 404), on the report page and in its JSON."""

from datetime import date
from urllib.parse import urlsplit

import pytest
from django.urls import resolve
from django.utils.html import escape

from api.test_manage_pages import as_user, page
from helpers import body
from perfplat.collectors.services import create_collector
from perfplat.dashboards import services as dashboards
from perfplat.datasets.services import update_data_set
from perfplat.metrics.services import record_support, update_metric
from perfplat.publishing import assessments
from perfplat.publishing.readiness import readiness
from perfplat.registry.services import update_service
from publishing_fixtures import NOW, catalogue, fixed_now, kpi_data_sets, send_month

pytestmark = pytest.mark.usefixtures(fixed_now.__name__)


def nothing_yet(world):
    """A live service with nothing but its registration."""


def half_made(world):
    """Metrics unchecked, unsupported, without a data set or a rationale; KPI data sets
    unpublished; a draft without details."""
    data_sets = kpi_data_sets(world.service, published=False, types=("cost", "completion"))
    metrics = catalogue(world.service, data_sets)
    update_metric(None, metrics["cost-per-transaction"], query="period=month&collect=channel:sum")
    record_support(None, metrics["cost-per-transaction"])
    update_metric(None, metrics["completion-rate"], data_set=None)
    from perfplat.metrics.services import create_metric

    create_metric(None, world.service, slug="visits", name="Visits")
    dashboards.start_draft(None, world.service)


def published_without_draft(world):
    """The draft published without its details (so no draft is left to change them); two
    KPI data sets more, with a month of data."""
    data_sets = kpi_data_sets(world.service, types=("transactions-by-channel", "user-satisfaction"))
    send_month(data_sets, "2025-01-01")
    dashboards.publish_directly(world.service)


def after_an_assessment(world):
    """A beta service assessed at alpha: its note for the coming assessment to write."""
    update_service(None, world.service, phase="beta")
    assessments.record_assessment(
        None,
        world.service,
        phase="alpha",
        assessed_on="2024-06-03",
        outcome="met",
        today=date(2025, 2, 10),
    )


def retired(world):
    """A retired service that unpublished its dashboard, still expecting data."""
    update_service(None, world.service, phase="retired")
    dashboards.publish_directly(world.service)
    dashboards.unpublish(world.org_admin, world.service)
    update_data_set(None, world.data_set, max_age_expected=86400)
    create_collector(
        None, world.data_set, allow_private=True, name="Export", url="http://127.0.0.1:9/x.csv"
    )


# In this order: each state builds on the one before, as a service's life does.
STATES = [nothing_yet, half_made, published_without_draft, after_an_assessment, retired]
# The pages the steps of these states lead to, by URL name: the test fails if a state stops
# reaching one, so it cannot pass by checking no links.
PAGES = {
    "collectors:detail",
    "data-set-edit",
    "data-set-new",
    "metrics:check",
    "metrics:edit",
    "metrics:new",
    "publishing:coming-evolution",
    "publishing:details",
    "publishing:editor",
    "publishing:readiness",
    "uploads:new",
}


def test_every_next_step_opens_the_page_that_does_it(world):
    client = as_user(world.editor)
    reached = set()
    for state in STATES:
        state(world)
        for item in readiness(world.service, NOW).items:
            for step in item.next_steps:
                path = urlsplit(step.href).path
                response = client.get(path)
                assert response.status_code == 200, (state.__name__, item.key, step)
                reached.add(resolve(path).view_name)
    assert reached == PAGES


def test_the_report_page_and_its_json_link_each_step(world):
    half_made(world)
    client = as_user(world.editor)
    report = readiness(world.service, NOW)
    steps = [step for item in report.items for step in item.next_steps]
    assert len(steps) >= 8
    html = page(client.get("/manage/services/road-tax/readiness"))
    for step in steps:
        assert f'<a class="govuk-link" href="{step.href}">{escape(step.text)}</a>' in html
    payload = body(client.get("/api/services/road-tax/readiness"))
    assert [s for item in payload["items"] for s in item["next_steps"]] == [
        {"text": step.text, "href": step.href} for step in steps
    ]
