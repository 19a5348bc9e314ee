"""The public pages: no sign-in, only published services, GOV.UK Frontend, no JavaScript needed.

Each page has a JSON and a CSV twin at the same address with `.json` or `.csv` (and the same
query string), made from the same function in pages/ (a module per page). Views stay thin: read
the GET parameters, call that function, answer a page or its data with caching headers
(caching.py).
Unknown services and organisations raise NotFound, which perfplat.frontend.views turns into the
GOV.UK "Page not found" page (or a JSON error for programs).
"""

import functools
from html import escape
from urllib.parse import urlencode

from django.conf import settings
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
from .feeds import UpdatesFeed
from .formatting import PERIOD_NAMES, TILE_KPIS, kpi_value, number, period_label, pounds
from .forms import PERIOD_CHOICES, SORT_CHOICES
from .opendata import data_package
from .pages.common import check_period, registry_fingerprint, tiles
from .pages.comparison import (
    MAX_COMPARED,
    comparison,
    comparison_charts,
    comparison_csv,
    comparison_json,
    comparison_table,
)
from .pages.corrections import (
    check_page,
    correction_entry,
    corrections_csv,
    corrections_json,
    corrections_log,
    entry_json,
)
from .pages.dashboard import (
    KPI_TILES,
    Dashboard,
    baseline_rows,
    dashboard_csv,
    dashboard_json,
    dashboard_module,
    how_made,
    kpi_tiles_json,
    module_links,
    module_of,
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
    perfplat.publishing.preview, exactly as the public will see it)."""
    service = result.service.slug
    data_sets = {info.address: info for info in result.data_sets}
    metrics = {metric.slug: metric for metric in result.metrics}
    modules = [
        {
            "module": module,
            "chart_and_table": _chart_and_table(service, module),
            "data_set": data_sets.get(module.data_set),
            "metric": metrics.get(module.metric),
            "embed": embed_snippet(
                request, f"/embed/services/{service}/modules/{module.number}", result, module
            ),
        }
        for module in result.modules
        if module.kind != "kpis"
    ]
    tiles_module = result.modules[0]
    return {
        "dashboard": result,
        "service": result.service,
        "cost_by_channel": cost_by_channel(result.latest),
        "tiles_module": tiles_module,
        "tiles_embed": embed_snippet(request, f"/embed/services/{service}", result, tiles_module),
        "modules": modules,
        "baseline_rows": baseline_rows(result),
        "baseline_text": period_label(result.baseline.period) if result.baseline else "",
        "latest_text": period_label(result.latest.period),
        "how_made": how_made(result.latest),
        "breadcrumbs": result.breadcrumbs,
        "downloads": _downloads(
            f"/services/{service}",
            request,
            kpi_api=f"/api/services/{service}/kpis?period={kind}",
        ),
        **_period_context(kind),
    }


def cost_by_channel(latest: maths.PeriodKpis) -> dict | None:
    """The cost per transaction of each channel whose costs are given per channel (as in the
    dashboard's CSV), as a table's head and rows; None when costs are given for all channels
    together only."""
    found = latest.cost_by_channel
    if not found:
        return None
    rows = []
    for channel in sorted(found):
        value = found[channel]
        rows.append(
            [
                channel,
                kpi_value(maths.COST_PER_TRANSACTION, value.value)
                + (f" ({value.not_enough_data})" if value.not_enough_data else ""),
                "" if value.numerator is None else pounds(value.numerator),
                "" if value.denominator is None else number(value.denominator, 0),
            ]
        )
    return {
        "caption": f"Cost per transaction by channel, {period_label(latest.period)}",
        "head": ["Channel", "Cost per transaction", "Cost", "Transactions"],
        "rows": rows,
        "numeric": [1, 2, 3],
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
    if number == KPI_TILES:
        # The KPI tiles: the figures of the dashboard's CSV, and the tiles' JSON.
        kind = _kind(request, fmt)
        result = published_dashboard(service, figures.now(), kind)
        return _data(
            request,
            fmt,
            lambda: kpi_tiles_json(result),
            lambda: dashboard_csv(result),
            f"{service}-module-1-{kind}",
        )
    module = dashboard_module(service, number, figures.now())
    return _data(request, fmt, module.as_json, module.as_csv, f"{service}-module-{number}")


def module_context(request, result: Dashboard, module, kind: str, embedded: bool) -> dict:
    """What a module's own page, or its embed page, shows."""
    service = result.service.slug
    data_sets = {info.address: info for info in result.data_sets}
    metrics = {metric.slug: metric for metric in result.metrics}
    base = f"/services/{service}/modules/{module.number}"
    is_tiles = module.number == KPI_TILES
    embed_path = f"/embed/services/{service}" + ("" if is_tiles else f"/modules/{module.number}")
    return {
        "dashboard": result,
        "service": result.service,
        "module": module,
        "count": len(result.modules),
        "previous": result.modules[module.number - 2] if module.number > 1 else None,
        "next": result.modules[module.number] if module.number < len(result.modules) else None,
        "chart_and_table": None if is_tiles else _chart_and_table(service, module),
        "cost_by_channel": cost_by_channel(result.latest) if is_tiles else None,
        "data_set": data_sets.get(module.data_set),
        "metric": metrics.get(module.metric),
        "embedded": embedded,
        "page_url": base,
        "dashboard_url": request.build_absolute_uri(f"/services/{service}"),
        "embed": embed_snippet(request, embed_path, result, module),
        "downloads": module_links(service, module) if not embedded else None,
        "breadcrumbs": result.breadcrumbs + [(result.service.name, f"/services/{service}")],
        **_period_context(kind),
    }


def embed_snippet(request, path: str, result: Dashboard, module) -> dict:
    """The HTML a service puts on its own site to show the module in an iframe."""
    url = request.build_absolute_uri(path)
    title = f"{module.title}: {result.service.name} (Performance Platform)"
    # Tall enough for the tiles or a chart with its table closed, at most widths; no script
    # is needed to show it, so none is asked of the embedding site.
    height = 720 if module.number == KPI_TILES else 620
    html = (
        f'<iframe src="{escape(url)}" title="{escape(title)}" width="100%" height="{height}" '
        'loading="lazy"></iframe>'
    )
    return {"url": url, "html": html}


@public_page
def module_page(request, service, number):
    kind = _kind(request, None)
    result = published_dashboard(service, figures.now(), kind)
    module = module_of(result, number)
    return _page(
        request, "public/module.html", module_context(request, result, module, kind, False)
    )


def embeddable(view):
    """An embed page: any site may put it in a frame (Content-Security-Policy frame-ancestors *
    and no X-Frame-Options), where every other page refuses to be framed."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response.xframe_options_exempt = True
        response._csp_replace = {"frame-ancestors": ["*"]}
        return response

    return wrapper


@public_page
@embeddable
def embed_module(request, service, number=KPI_TILES):
    """/embed/services/<slug> (the KPI tiles) and /embed/services/<slug>/modules/<n>."""
    kind = _kind(request, None)
    result = published_dashboard(service, figures.now(), kind)
    module = module_of(result, number)
    return _page(request, "public/embed.html", module_context(request, result, module, kind, True))


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


# corrections and feeds


@public_page
def corrections(request, service=None, fmt=None):
    """The corrections log of every public service, or of one."""
    try:
        page = check_page(request.GET.get("page"))
    except InvalidRequest:
        if fmt:
            raise
        page = 1
    log = corrections_log(service, page)
    if fmt:
        return _data(
            request,
            fmt,
            lambda: corrections_json(log),
            lambda: corrections_csv(log),
            f"{service}-corrections" if service else "corrections",
        )
    return _page(
        request,
        "public/corrections.html",
        {
            "log": log,
            "show_service": service is None,
            "downloads": _downloads(log.path, request),
            "breadcrumbs": [("Home", "/")]
            + (
                [("Services", "/services"), (log.service.name, f"/services/{service}")]
                if service
                else []
            ),
        },
    )


@public_page
def correction(request, correction_id, fmt=None):
    entry = correction_entry(correction_id)
    if fmt:
        return _data(
            request,
            fmt,
            lambda: entry_json(entry),
            lambda: corrections_csv([entry]),
            f"correction-{correction_id}",
        )
    return _page(
        request,
        "public/correction.html",
        {
            "entry": entry,
            "downloads": _downloads(entry.url, request),
            "breadcrumbs": [
                ("Home", "/"),
                ("Services", "/services"),
                (entry.service_name, f"/services/{entry.service_slug}"),
                ("Corrections", f"/services/{entry.service_slug}/corrections"),
            ],
        },
    )


@public_page
def feed(request, service=None, publications=True):
    """An Atom feed: publications and corrections, or corrections only (see feeds.py)."""
    response = UpdatesFeed()(request, service=service, publications=publications)
    response["Access-Control-Allow-Origin"] = "*"
    return with_http_caching(request, response, shared=True)


# open data and the pages every public site owes


@public_page
def data_zip(request):
    """Every published data set, the KPI tables and the corrections log, as a Frictionless
    Data Package (opendata.py)."""
    response = HttpResponse(data_package(figures.now()), content_type="application/zip")
    response["Content-Disposition"] = 'attachment; filename="performance-platform-data.zip"'
    response["Access-Control-Allow-Origin"] = "*"
    return with_http_caching(request, response, shared=True)


def cookies_set() -> list[dict]:
    """The cookies the platform sets, by their configured names."""
    session_hours = settings.SESSION_COOKIE_AGE // 3600
    return [
        {
            "name": settings.CSRF_COOKIE_NAME,
            "when": "When a page shows a form: signing in, the feedback form, the management pages",
            "why": "Stops other websites sending forms in your name (cross-site request forgery)",
            "expires": "After 1 year",
        },
        {
            "name": settings.SESSION_COOKIE_NAME,
            "when": "When a service team member signs in",
            "why": "Keeps you signed in to the management pages",
            "expires": f"After {session_hours} hours, or when you sign out",
        },
        {
            "name": "messages",
            "when": "After a change in the management pages, when the message is too long "
            "to keep with the sign-in",
            "why": "Shows a message (such as 'Settings saved') on the next page",
            "expires": "When the message has been shown",
        },
    ]


def _info_page(template: str, **context):
    @public_page
    def view(request):
        return _page(request, template, {**context, "breadcrumbs": [("Home", "/")]})

    return view


accessibility = _info_page("public/accessibility.html")
privacy = _info_page("public/privacy.html")
open_data = _info_page("public/open_data.html")


@public_page
def cookies(request):
    return _page(
        request, "public/cookies.html", {"cookies": cookies_set(), "breadcrumbs": [("Home", "/")]}
    )
