"""/api/services/<slug>/beacon: turn a service's journey beacon on or change it (PUT), read it
with its last 7 days of counts (GET), turn it off (DELETE). Same rules and checks as the page
(services.py)."""

from ninja import Router

from perfplat.accounts.permissions import requires
from perfplat.datasets.schemas import MessageOut
from perfplat.registry.models import Service

from . import events, services
from .schemas import BeaconIn, BeaconOut

router = Router(tags=["journey beacon"])
DAYS_SHOWN = 7


def _service(slug: str) -> Service:
    return Service.objects.select_related("organisation").get(slug=slug)


def beacon_json(beacon) -> dict:
    today = services.day_start(events.current_time())
    days = services.daily_counts(beacon, today - (DAYS_SHOWN - 1) * services.DAY, today)
    return {
        "service": beacon.service.slug,
        "steps": beacon.steps,
        "origins": beacon.origins,
        "data_set": str(beacon.data_set),
        "updated_at": beacon.updated_at,
        "days": [
            {
                "day": day.day,
                "steps": dict(zip(beacon.steps, day.steps, strict=True)),
                "bots": day.bots,
                "prefetches": day.prefetches,
                "rejected": day.rejected,
                "completed_clamped": day.clamped,
            }
            for day in days
        ],
    }


@router.get("/services/{service}/beacon", response=BeaconOut)
@requires("service.view")
def get_beacon(request, service: str):
    """The service's beacon: its steps, origins, data set and last 7 days of counts (404
    while it is off)."""
    return beacon_json(services.find_beacon(_service(service)))


@router.put("/services/{service}/beacon", response=BeaconOut)
@requires("beacon.manage")
def put_beacon(request, service: str, payload: BeaconIn):
    """Turn the beacon on, or change its steps and origins. The first step is "start" and the
    last "done"; their daily counts go to the service's completion data set (made if it has
    none)."""
    found = _service(service)
    services.configure(request.user, found, payload.steps, payload.origins)
    return beacon_json(services.find_beacon(found))


@router.delete("/services/{service}/beacon", response=MessageOut)
@requires("beacon.manage")
def delete_beacon(request, service: str):
    """Turn the beacon off: its events are then counted as rejected. Counts are kept."""
    services.turn_off(request.user, _service(service))
    return {"status": "ok", "message": f"The journey beacon of {service} is off"}
