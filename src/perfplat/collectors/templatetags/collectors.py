"""`{% load collectors %}{% data_set_automation data_set %}`: the freshness and collectors of a
data set, for pages that show one (the management area's data set page)."""

from django import template

register = template.Library()


@register.inclusion_tag("collectors/_data_set_panel.html")
def data_set_automation(data_set):
    from perfplat.datasets.services import freshness

    from ..models import Collector

    collectors = Collector.objects.filter(data_set=data_set)
    return {
        "data_set": data_set,
        "freshness": freshness(data_set),
        "collector_count": collectors.count(),
        "failing_count": collectors.filter(failure_count__gt=0).count(),
    }


@register.filter
def every(seconds) -> str:
    """`{{ data_set.max_age_expected|every }}`: "every 3 minutes"."""
    from perfplat.notifications.services import every_text

    return every_text(seconds) if seconds is not None else ""
