"""The beacon's management page (/manage/services/<service>/beacon: turn it on, change its
steps and origins, copy the snippet for the service's pages, read the counts), turning it off,
and the public page that says what the beacon stores (/privacy/beacon)."""

from django.conf import settings
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from perfplat.accounts.permissions import allowed, check, requires
from perfplat.errors import InvalidRequest
from perfplat.manage.views.common import MANAGE, _service_crumb, answers
from perfplat.registry.models import Service

from . import events, services
from .forms import BeaconForm

DAYS_SHOWN = 7


def _service(slug: str) -> Service:
    return get_object_or_404(Service.objects.select_related("organisation"), slug=slug)


def snippet(request, beacon) -> dict:
    """The lines a team puts on its pages: an image per step (no JavaScript) and the
    sendBeacon call."""
    base = request.build_absolute_uri(f"/beacon/{beacon.service.slug}")
    return {
        "event_url": base,
        "pixels": [
            (
                step,
                f'<img src="{base}/{step}.gif" alt="" width="1" height="1" '
                'referrerpolicy="origin">',
            )
            for step in beacon.steps
        ],
        "send_beacon": f'navigator.sendBeacon("{base}", JSON.stringify({{step: "start"}}))',
    }


def count_rows(beacon, days: list) -> list[dict]:
    """Rows of the counts table: each step's counted events, then those counted apart; each
    with today, yesterday and the whole period."""

    def row(label, values):
        values = list(values)
        return {"label": label, "today": values[0], "yesterday": values[1], "all": sum(values)}

    rows = [
        row(step, (day.steps[index] for day in days)) for index, step in enumerate(beacon.steps)
    ]
    rows.append(row("Bots (counted apart)", (day.bots for day in days)))
    rows.append(row("Prefetches (counted apart)", (day.prefetches for day in days)))
    rows.append(row("Rejected", (day.rejected for day in days)))
    return rows


def _every(seconds: float) -> str:
    if seconds == 60:
        return "every minute"
    return f"every {seconds:g} seconds"


@answers("GET", "POST")
@requires("service.view")
def beacon_page(request, service):
    service = _service(service)
    beacon = services.beacon_of(service)
    can_manage = allowed(request.user, "beacon.manage", service)
    form = BeaconForm(
        request.POST if request.method == "POST" else None,
        initial=BeaconForm.initial_for(beacon),
    )
    if form.is_bound:
        # requires() checked service.view; changing it needs beacon.manage.
        check(request.user, "beacon.manage", service)
        if form.is_valid():
            try:
                services.configure(request.user, service, **form.settings())
            except InvalidRequest as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                messages.success(
                    request, "Beacon settings saved" if beacon else "The journey beacon is on"
                )
                return redirect("beacon:manage", service=service.slug)
    context = {
        "service": service,
        "beacon": beacon,
        "form": form,
        "can_manage": can_manage,
        "breadcrumbs": [MANAGE, _service_crumb(service)],
    }
    if beacon is not None:
        today = services.day_start(events.current_time())
        days = services.daily_counts(beacon, today - (DAYS_SHOWN - 1) * services.DAY, today)
        context.update(
            snippet=snippet(request, beacon),
            counts=count_rows(beacon, days),
            clamped_days=[day.day for day in days if day.clamped],
            other_sources=services.other_sources(beacon),
            days_shown=DAYS_SHOWN,
            written_every=_every(settings.PERFPLAT_BEACON_DATA_SET_SECONDS),
        )
    return render(request, "beacon/manage.html", context)


@answers("GET", "POST")
@requires("beacon.manage")
def turn_off(request, service):
    service = _service(service)
    services.find_beacon(service)
    if request.method == "POST":
        services.turn_off(request.user, service)
        messages.success(request, "The journey beacon is off")
        return redirect("beacon:manage", service=service.slug)
    return render(
        request,
        "beacon/turn_off.html",
        {
            "caption": service.name,
            "title": "Turn off the journey beacon?",
            "button": "Turn off the beacon",
            "cancel": reverse("beacon:manage", args=[service.slug]),
            "breadcrumbs": [MANAGE, _service_crumb(service)],
        },
    )


@answers("GET")
@requires("public")
def privacy(request):
    return render(request, "beacon/privacy.html", {})
