"""The public pages: no sign-in, only published services, GOV.UK Frontend, no JavaScript needed.

Each page has a JSON and a CSV twin at the same address with `.json` or `.csv` (and the same
query string), made from the same function in pages/ (a module per page). Views stay thin: read
the GET parameters, call that function, answer a page or its data with caching headers
(caching.py).
Unknown services and organisations raise NotFound, which perfplat.frontend.views turns into the
GOV.UK "Page not found" page (or a JSON error for programs).
"""

import functools
from urllib.parse import urlencode

from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from perfplat.accounts.permissions import requires
from perfplat.deployment.replicas import reads_from_replica
from perfplat.errors import InvalidRequest, MethodNotAllowed, json_response
from perfplat.kpis import maths
from perfplat.kpis.periods import MONTH

from . import figures
from .caching import cached, with_http_caching
from .formatting import PERIOD_NAMES, TILE_KPIS, period_label
from .forms import PERIOD_CHOICES, SORT_CHOICES
from .pages.common import check_period, registry_fingerprint, tiles
from .pages.comparison import (
    MAX_COMPARED,
    comparison,
    comparison_charts,
    comparison_csv,
    comparison_json,
    comparison_table,
)
from .pages.dashboard import (
    Dashboard,
    dashboard_csv,
    dashboard_json,
    dashboard_module,
    module_links,
)
from .pages.dashboard import dashboard as published_dashboard
from .pages.organisation import organisation_csv, organisation_json, organisation_page
from .pages.overview import overview, overview_csv, overview_json
from .pages.service_list import (
    check_no_errors,
    service_list,
    service_list_csv,
    service_list_json,
)


def public_page(view):
    """A public page or data twin: anyone may open it (the permission rule `public`), with GET
    or HEAD only; it reads from a replica when there is one (perfplat.deployment.replicas)."""

    @functools.wraps(view)
    @reads_from_replica
    def wrapper(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD"):
            raise MethodNotAllowed(request.method, ["GET"])
        return view(request, *args, **kwargs)

    wrapper.permission_methods = ("GET",)
    return requires("public")(wrapper)


def _page(request, template: str, context: dict) -> HttpResponse:
    response = render(request, template, context)
    return with_http_caching(request, response, shared=False)


def _data(request, fmt: str, to_json, to_csv, filename: str) -> HttpResponse:
    if fmt == "json":
        response = json_response(to_json())
    else:
        response = HttpResponse(to_csv().encode(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'inline; filename="{filename}.csv"'
    response["Access-Control-Allow-Origin"] = "*"
    return with_http_caching(request, response, shared=True)


def _kind(request, fmt) -> str:
    """The period asked for; on a page an unknown one falls back to month, as the period
    form only offers the three."""
    try:
        return check_period(request.GET.get("period"))
    except InvalidRequest:
        if fmt:
            raise
        return MONTH


def _downloads(path: str, request, **extra) -> dict:
    query = request.GET.urlencode()
    suffix = f"?{query}" if query else ""
    return {"csv": f"{path}.csv{suffix}", "json": f"{path}.json{suffix}", **extra}


def _period_context(kind: str) -> dict:
    return {"period_choices": PERIOD_CHOICES, "period": kind}


@public_page
def home(request, fmt=None):
    kind = _kind(request, fmt)
    now = figures.now()
    if fmt:
        result = overview(now, kind)
        return _data(
            request,
            fmt,
            lambda: overview_json(result),
            lambda: overview_csv(result),
            f"performance-platform-{kind}",
        )

    def content():
        result = overview(now, kind)
        context = {
            "overview": result,
            "tiles": tiles(result.latest),
            "period_text": period_label(result.latest.period),
            "downloads": {
                "csv": f"/index.csv?period={kind}",
                "json": f"/index.json?period={kind}",
            },
            **_period_context(kind),
        }
        return render_to_string("public/_home_content.html", context), False

    return _fragment_page(request, "public/home.html", ("home", kind), now, content)


def _fragment_page(request, template: str, key: tuple, now: int, content) -> HttpResponse:
    """A page whose main content depends only on what is public, on the day (the latest
    complete period) and on `key` (the GET parameters), not on who is signed in: rendered once,
    kept in the cache under the registry fingerprint (pages.common.registry_fingerprint, which
    any write changes), and put into the page template. `content()` returns the HTML and whether
    it shows errors (for the page's title)."""
    parts = ("fragment", *key, figures.today_of(now), registry_fingerprint())
    html, has_errors = cached(parts, content)
    # The fragment is the output of a template rendered with autoescaping: every piece of user
    # text in it is already escaped.
    return _page(request, template, {"content": mark_safe(html), "has_errors": has_errors})  # noqa: S308


# the services list

SORT_LABELS = {
    "name": "Service",
    "organisation": "Organisation",
    "phase": "Phase",
    maths.COST_PER_TRANSACTION: "Cost per transaction",
    maths.USER_SATISFACTION: "User satisfaction",
    maths.SATISFACTION_SCORE: "Satisfaction score",
    maths.COMPLETION_RATE: "Completion rate",
    maths.DIGITAL_TAKE_UP: "Digital take-up",
}


def _sort_columns(request, filters) -> list[dict]:
    """The table's headings, each a link that sorts by it (the other way round when it is the
    current sort), with its state for assistive technology (aria-sort)."""
    columns = []
    for name, _ in SORT_CHOICES:
        if name == maths.SATISFACTION_SCORE:
            continue  # in the downloads, not in the page's table
        current = filters.sort == name
        order = "desc" if current and filters.order == "asc" else "asc"
        params = request.GET.copy()
        params["sort"], params["order"] = name, order
        state = ("ascending" if filters.order == "asc" else "descending") if current else ""
        next_words = "descending" if order == "desc" else "ascending"
        columns.append(
            {
                "name": name,
                "label": SORT_LABELS[name],
                "href": f"?{params.urlencode()}",
                "aria_sort": state,
                "hint": (
                    f", sorted {state}; select to sort {next_words}"
                    if current
                    else f"; select to sort {next_words}"
                ),
                "numeric": name in TILE_KPIS,
            }
        )
    return columns


@public_page
def services(request, fmt=None):
    now = figures.now()
    if fmt:
        result = service_list(request.GET, now)
        check_no_errors(result.errors)
        return _data(
            request,
            fmt,
            lambda: service_list_json(result),
            lambda: service_list_csv(result),
            "services",
        )

    def content():
        result = service_list(request.GET, now)
        context = {
            "result": result,
            "form": result.form,
            "columns": _sort_columns(request, result.filters),
            "period_text": period_label(result.period),
            "period_name": PERIOD_NAMES[result.filters.period].lower(),
            "downloads": _downloads("/services", request),
            "clear_href": "/services"
            + (
                f"?{urlencode({'period': result.filters.period})}"
                if result.filters.period != MONTH
                else ""
            ),
        }
        return render_to_string("public/_services_content.html", context), bool(result.errors)

    key = ("services", sorted(request.GET.lists()))
    return _fragment_page(request, "public/services.html", key, now, content)


# a service's dashboard


@public_page
def dashboard(request, service, fmt=None):
    kind = _kind(request, fmt)
    result = published_dashboard(service, figures.now(), kind)
    if fmt:
        return _data(
            request,
            fmt,
            lambda: dashboard_json(result),
            lambda: dashboard_csv(result),
            f"{service}-{kind}",
        )
    return _page(request, "public/service.html", dashboard_context(request, result, kind))


def dashboard_context(request, result: Dashboard, kind: str) -> dict:
    """What public/service.html shows of a dashboard (also the dashboard editor's live preview,
    perfplat.publishing.preview)."""
    service = result.service.slug
    data_sets = {info.address: info for info in result.data_sets}
    metrics = {metric.slug: metric for metric in result.metrics}
    modules = [
        {
            "module": module,
            "chart_and_table": _chart_and_table(service, module),
            "data_set": data_sets.get(module.data_set),
            "metric": metrics.get(module.metric),
        }
        for module in result.modules
        if module.kind != "kpis"
    ]
    return {
        "dashboard": result,
        "service": result.service,
        "modules": modules,
        "breadcrumbs": result.breadcrumbs,
        "downloads": _downloads(
            f"/services/{service}",
            request,
            kpi_api=f"/api/services/{service}/kpis?period={kind}",
        ),
        **_period_context(kind),
    }


def _chart_and_table(service: str, module) -> str | None:
    """A data module's chart, table and download links, rendered once per module result."""
    if not module.has_data:
        return None

    def render():
        return render_to_string(
            "public/_chart.html",
            {
                "svg": module.chart,
                "title": module.title,
                "head": [column.label for column in module.columns],
                "rows": module.cells,
                "numeric": [i for i, column in enumerate(module.columns) if column.numeric],
                "downloads": module_links(service, module),
            },
        )

    # Rendered with autoescaping from the module's (escaped) text: safe to output as it is.
    return mark_safe(cached(("module-html", module.key, service), render))  # noqa: S308


@public_page
def module_data(request, service, number, fmt):
    module = dashboard_module(service, number, figures.now())
    return _data(request, fmt, module.as_json, module.as_csv, f"{service}-module-{number}")


# an organisation


@public_page
def organisation(request, organisation, fmt=None):
    kind = _kind(request, fmt)
    result = organisation_page(organisation, figures.now(), kind)
    if fmt:
        return _data(
            request,
            fmt,
            lambda: organisation_json(result),
            lambda: organisation_csv(result),
            f"{organisation}-{kind}",
        )
    breadcrumbs = [("Home", "/")] + [
        (parent.name, f"/organisations/{parent.slug}") for parent in reversed(result.parents)
    ]
    return _page(
        request,
        "public/organisation.html",
        {
            "page": result,
            "organisation": result.organisation,
            "tiles": result.tiles,
            "kpi_headings": [SORT_LABELS[kpi] for kpi in TILE_KPIS],
            "period_text": period_label(result.latest.period),
            "breadcrumbs": breadcrumbs,
            "downloads": _downloads(
                f"/organisations/{organisation}",
                request,
                kpi_api=f"/api/organisations/{organisation}/kpis?period={kind}",
            ),
            **_period_context(kind),
        },
    )


# comparing services


@public_page
def compare(request, fmt=None):
    now = figures.now()
    if fmt:
        result = comparison(request.GET, now)
        if result.errors:
            raise InvalidRequest(result.errors[0], messages=result.errors)
        kpi = request.GET.get("kpi") or None
        if kpi is not None and kpi not in maths.KPIS:
            raise InvalidRequest(f"kpi must be one of {', '.join(maths.KPIS)}")
        return _data(
            request,
            fmt,
            lambda: comparison_json(result, kpi),
            lambda: comparison_csv(result, kpi),
            "comparison",
        )

    def content():
        result = comparison(request.GET, now)
        latest = result.periods[-1]
        selects = [
            {
                "number": index + 1,
                "chosen": result.chosen[index] if index < len(result.chosen) else "",
            }
            for index in range(MAX_COMPARED)
        ]
        context = {
            "result": result,
            "errors": result.errors,
            "selects": selects,
            "table": comparison_table(result),
            "charts": comparison_charts(result, request.GET),
            "period_text": period_label(latest),
            "downloads": _downloads("/compare", request),
            **_period_context(result.kind),
        }
        return render_to_string("public/_compare_content.html", context), bool(result.errors)

    key = ("compare", sorted(request.GET.lists()))
    return _fragment_page(request, "public/compare.html", key, now, content)
