"""The public KPI API: /api/services/<slug>/kpis, /api/organisations/<slug>/kpis and /api/kpis.

Open to anyone (no sign-in, CORS allowed), like published data sets. Each takes
`period=day|week|month|quarter|rolling-year` (default month; days for the last year only) and
`format=json|csv` (default json); any other parameter is a 400, as in the read API. Only public
services and their published data sets count; any other service or organisation is a 404.
"""

from django.http import HttpResponse
from ninja import Query, Router

from perfplat.accounts.permissions import requires
from perfplat.deployment.replicas import reads_from_replica
from perfplat.errors import InvalidQuery, json_response

from . import schemas, services

router = Router(tags=["KPIs"])

PARAMETERS = ("period", "format")
FORMATS = ("json", "csv")
PERIOD = Query(
    "month",
    description="day (the last 366 days), week (Monday to Sunday), month, quarter or "
    "rolling-year (the 12 months to a month)",
)
FORMAT = Query("json", description="json or csv (one row per subject, period and KPI)")


def _check_parameters(request, output_format: str) -> None:
    unknown = sorted(set(request.GET) - set(PARAMETERS))
    if unknown:
        raise InvalidQuery(
            f"Unknown parameter(s): {', '.join(unknown)}. "
            f"The KPI API accepts: {', '.join(PARAMETERS)}"
        )
    for name in PARAMETERS:
        if len(request.GET.getlist(name)) > 1:
            raise InvalidQuery(f"{name} may be given only once")
    if output_format not in FORMATS:
        raise InvalidQuery(f"format must be json or csv, not {output_format!r}")


def _reply(output_format: str, result, to_json, to_csv, filename: str) -> HttpResponse:
    if output_format == "csv":
        response = HttpResponse(to_csv(result).encode(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'inline; filename="{filename}.csv"'
    else:
        response = json_response(to_json(result))
    response["Access-Control-Allow-Origin"] = "*"
    return response


@router.get("/services/{service}/kpis", response=schemas.ServiceKpisOut, auth=None)
@requires("public")
@reads_from_replica
def service_kpis(request, service: str, period: str = PERIOD, format: str = FORMAT):
    """A published service's four KPIs for every period from its first data to its latest
    complete period, each with its changes from the previous period and a year earlier, how it
    was made and the days it covers. A record whose days cross a period's edge (a week from
    Monday 28 July) is shared between the periods by day (4/7 in July, 3/7 in August); a
    period is complete once it has ended and every data set with data for it describes its
    last day."""
    _check_parameters(request, format)
    services.check_period(period)
    result = services.service_kpis(
        services.public_service(service), period, services.current_time()
    )
    return _reply(
        format, result, schemas.service_json, schemas.service_csv, f"{service}-kpis-{period}"
    )


@router.get("/organisations/{organisation}/kpis", response=schemas.OrganisationKpisOut, auth=None)
@requires("public")
@reads_from_replica
def organisation_kpis(request, organisation: str, period: str = PERIOD, format: str = FORMAT):
    """The KPIs of an organisation's published services and those of every body under it,
    added up (numerators and denominators, never averages of percentages), up to the latest
    period complete for all of them, and each service's figures for that period."""
    _check_parameters(request, format)
    services.check_period(period)
    result = services.organisation_kpis(
        services.public_organisation(organisation), period, services.current_time()
    )
    return _reply(
        format,
        result,
        schemas.roll_up_json,
        schemas.roll_up_csv,
        f"{organisation}-kpis-{period}",
    )


@router.get("/kpis", response=schemas.GovernmentKpisOut, auth=None)
@requires("public")
@reads_from_replica
def government_kpis(request, period: str = PERIOD, format: str = FORMAT):
    """Every published service's KPIs added up across government, up to the latest period
    complete for all of them, and each service's figures for that period."""
    _check_parameters(request, format)
    services.check_period(period)
    result = services.government_kpis(period, services.current_time())
    return _reply(format, result, schemas.roll_up_json, schemas.roll_up_csv, f"kpis-{period}")
