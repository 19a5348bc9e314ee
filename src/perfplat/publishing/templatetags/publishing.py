"""`{% load publishing %}`: the public dashboard's "How this service has changed" section.

    {% service_changes dashboard %}

`dashboard` is the public page's perfplat.public.pages.dashboard.Dashboard (its service,
period kind and latest KPIs). The section compares the KPIs frozen at each assessment with the
latest complete month's; it renders nothing for a service that has not been assessed.

    {{ content.baseline|baseline }}

A dashboard's baseline period as people read it ("1 April 2024 to 31 March 2025").
"""

from django import template

from perfplat.dashboards.content import baseline_text
from perfplat.kpis.periods import MONTH

from ..changes import service_changes

register = template.Library()


def _latest_month(dashboard):
    if getattr(dashboard, "kind", MONTH) == MONTH:
        return dashboard.latest
    # The page shows quarters or rolling years: assessments are compared month to month.
    from perfplat.public import figures

    return figures.service_kpis(dashboard.service, MONTH, figures.now(), only_latest=True)[-1]


@register.inclusion_tag("publishing/_service_changes.html", name="service_changes")
def service_changes_section(dashboard):
    return {"changes": service_changes(dashboard.service, _latest_month(dashboard))}


@register.filter
def baseline(value) -> str:
    return baseline_text(value) or (value or "")
