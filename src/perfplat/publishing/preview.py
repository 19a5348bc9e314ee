"""The live preview: a dashboard version rendered exactly as the public page will render it once
published, by the public page's own functions and template (perfplat.public:
pages.dashboard.dashboard_of builds the page from a version, views.dashboard_context shapes it
for public/service.html).

Publishing a version also publishes the data sets its modules show (dashboards.services.publish),
so the preview reads those as published (in memory only: nothing is written, and the public
still cannot read them).
"""

from django.shortcuts import render
from django.urls import reverse

from perfplat.dashboards.services import published_version
from perfplat.errors import InvalidRequest
from perfplat.kpis.periods import MONTH
from perfplat.registry.models import Service


def shown_data_sets(version) -> set[str]:
    return {m["data_set"] for m in version.content.get("modules", []) if m.get("data_set")}


def render_preview(request, service, version):
    from perfplat.public import figures
    from perfplat.public import views as public_views
    from perfplat.public.pages.common import check_period
    from perfplat.public.pages.dashboard import dashboard_of

    try:
        kind = check_period(request.GET.get("period"))
    except InvalidRequest:
        kind = MONTH
    service = (
        Service.objects.select_related("organisation")
        .prefetch_related("data_sets")
        .get(pk=service.pk)
    )
    shown = shown_data_sets(version)
    for data_set in service.data_sets.all():
        if str(data_set) in shown:
            data_set.published = True
    result = dashboard_of(service, version, figures.now(), kind)
    context = public_views.dashboard_context(request, result, kind)
    published = published_version(service)
    context.update(
        preview=version,
        published=published,
        editor_url=reverse("publishing:editor", args=[service.slug]),
    )
    response = render(request, "publishing/preview.html", context)
    # A draft is for its team only: never kept by a shared cache.
    response["Cache-Control"] = "private, no-store"
    return response
