"""All published data in bulk (/data.zip): a Frictionless Data Package (SPEC section 14).

The zip holds `datapackage.json` and, as CSV:
- every published data set of every public service, record by record
  (`data/<group>/<type>.csv`: `_id`, `_timestamp` and the fields, typed from the data set's
  standard type or from the types its records have had);
- the KPI tables: each public service's KPIs for every month, quarter and rolling year
  (`kpis/<period>.csv`, the KPI API's CSV columns);
- the public corrections log (`corrections.csv`).

The descriptor gives each resource's fields and types, its source, the licence (Open Government
Licence v3.0) and methodology notes. The zip is built when first asked for and kept in the
cache under a fingerprint of everything public (the registry fingerprint, which every write and
publication changes) and the day (which decides the latest complete period): it is rebuilt
after published data changes.
"""

import io
import zipfile
from datetime import UTC, datetime

import orjson
from django.conf import settings

from perfplat.csvfiles import csv_text
from perfplat.datasets.models import Record
from perfplat.datasets.periods import format_timestamp
from perfplat.datasets.types import INTEGER, NUMBER, TYPES
from perfplat.kpis import schemas
from perfplat.kpis.periods import PERIOD_KINDS
from perfplat.kpis.services import ServiceKpis

from . import figures
from .caching import cached
from .pages.common import registry_fingerprint
from .pages.corrections import CSV_HEAD as CORRECTIONS_HEAD
from .pages.corrections import corrections_csv, entry_of, public_corrections

LICENCE = {
    "name": "OGL-UK-3.0",
    "title": "Open Government Licence v3.0",
    "path": "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
}
# JSON types of record values -> Table Schema types.
FIELD_TYPES = {"string": "string", "number": "number", "boolean": "boolean"}
SPEC_TYPES = {INTEGER: "integer", NUMBER: "number"}
KPI_METHODOLOGY = (
    "The four key performance indicators as the Performance Platform defines them: cost per "
    "transaction (total cost of the period divided by the transactions completed in it, also "
    "per channel where costs are given per channel), user satisfaction (the share of survey "
    "responses satisfied or very satisfied, and the score: ratings mapped very dissatisfied 0%, "
    "dissatisfied 25%, neither 50%, satisfied 75%, very satisfied 100%), completion rate "
    "(transactions completed divided by started) and digital take-up (transactions completed "
    "online divided by all completed). Periods are calendar months, calendar quarters and "
    "rolling years of 12 months; a KPI without enough data has no value and says why "
    "(not_enough_data), never 0. Shares are fractions from 0 to 1; costs are in pounds."
)
KPI_NUMBERS = {
    "value",
    "numerator",
    "denominator",
    "previous_period_absolute_change",
    "previous_period_relative_change",
    "year_earlier_absolute_change",
    "year_earlier_relative_change",
}
KPI_DATETIMES = {"start_at", "end_at"}


def _field(name: str, type_: str, description: str = "") -> dict:
    field = {"name": name, "type": type_}
    if description:
        field["description"] = description
    return field


def data_set_fields(data_set, names: list[str]) -> list[dict]:
    """The Table Schema fields of a data set's CSV: `_id`, `_timestamp` and `names`, typed by
    the data set's standard type, else by the JSON types its records have had (a field that
    has had several is text)."""
    spec = TYPES.get(data_set.standard_type)
    fields = [
        _field("_id", "string", "The record's id"),
        _field("_timestamp", "datetime", "The start of the period the record describes (UTC)"),
    ]
    for name in names:
        declared = spec.field(name) if spec else None
        if declared is not None:
            fields.append(
                _field(name, SPEC_TYPES.get(declared.type, "string"), declared.description)
            )
            continue
        seen = data_set.field_types.get(name, [])
        fields.append(
            _field(name, FIELD_TYPES.get(seen[0], "string") if len(seen) == 1 else "string")
        )
    return fields


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def data_set_csv(data_set) -> tuple[str, list[str]]:
    """Every record of the data set as CSV (time order), and its field names."""
    rows = Record.objects.filter(data_set=data_set).order_by("timestamp", "record_id")
    records = list(rows.values_list("record_id", "timestamp", "data"))
    names: dict[str, None] = {}
    for _, _, data in records:
        names.update(dict.fromkeys(data))
    columns = sorted(names)
    table = [["_id", "_timestamp", *columns]]
    for record_id, timestamp, data in records:
        table.append(
            [record_id, format_timestamp(timestamp) or "", *(_cell(data.get(c)) for c in columns)]
        )
    return csv_text(table), columns


def kpi_csv(services, kind: str, moment: int) -> str:
    """Every public service's KPIs for every period of `kind`, in the KPI API's CSV columns."""
    lines = [",".join(schemas.CSV_COLUMNS) + "\r\n"]
    for service in services:
        periods = figures.service_kpis(service, kind, moment)
        text = schemas.service_csv(ServiceKpis(service, kind, periods))
        lines.append(text.split("\r\n", 1)[1])
    return "".join(lines)


def kpi_fields() -> list[dict]:
    def type_of(name):
        if name in KPI_NUMBERS:
            return "number"
        return "datetime" if name in KPI_DATETIMES else "string"

    return [_field(name, type_of(name)) for name in schemas.CSV_COLUMNS]


def _resource(name: str, path: str, title: str, fields: list[dict], **extra) -> dict:
    return {
        "name": name,
        "path": path,
        "title": title,
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "licenses": [LICENCE],
        "schema": {"fields": fields},
        **extra,
    }


def build_package(moment: int) -> bytes:
    """The zip of every published data set, the KPI tables, the corrections log and the
    descriptor."""
    base = settings.PERFPLAT_BASE_URL
    services = list(figures.public_services_with_data_sets().order_by("slug"))
    resources = []
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for service in services:
            for light in service.data_sets.all():
                if not light.published:
                    continue
                data_set = type(light).objects.get(pk=light.pk)
                text, names = data_set_csv(data_set)
                path = f"data/{data_set.data_group}/{data_set.data_type}.csv"
                archive.writestr(path, text)
                spec = TYPES.get(data_set.standard_type)
                resources.append(
                    _resource(
                        f"{data_set.data_group}-{data_set.data_type}".lower(),
                        path,
                        f"{service.name}: {data_set.data_type.replace('-', ' ')}",
                        data_set_fields(data_set, names),
                        description=(
                            f"Every record of the data set {data_set} of {service.name} "
                            f"({service.organisation.name}), as sent to the Performance "
                            "Platform. " + (spec.description if spec else "A free-form data set.")
                        ),
                        sources=[
                            {
                                "title": f"{service.name} ({service.organisation.name})",
                                "path": f"{base}/data/{data_set.data_group}/{data_set.data_type}",
                            }
                        ],
                    )
                )
        for kind in PERIOD_KINDS:
            path = f"kpis/{kind}.csv"
            archive.writestr(path, kpi_csv(services, kind, moment))
            resources.append(
                _resource(
                    f"kpis-{kind}",
                    path,
                    f"Key performance indicators per {kind.replace('-', ' ')}",
                    kpi_fields(),
                    description=KPI_METHODOLOGY,
                    sources=[{"title": "Performance Platform KPI API", "path": f"{base}/api/kpis"}],
                )
            )
        archive.writestr(
            "corrections.csv", corrections_csv([entry_of(c) for c in public_corrections()])
        )
        resources.append(
            _resource(
                "corrections",
                "corrections.csv",
                "Corrections to published data",
                [_field(name, "string") for name in CORRECTIONS_HEAD],
                description=(
                    "Every change to a record of a published data set after publication: "
                    "when, which data set and period, which field from what to what, the path, "
                    "the organisation and the reason (one row per field changed)."
                ),
                sources=[
                    {"title": "Performance Platform corrections log", "path": f"{base}/corrections"}
                ],
            )
        )
        descriptor = {
            "profile": "data-package",
            "name": "performance-platform",
            "title": "Performance Platform: all published data",
            "description": (
                "The published performance data of public services on the Performance "
                "Platform: each service's data sets record by record, the key performance "
                "indicators computed from them and the corrections made to them. " + KPI_METHODOLOGY
            ),
            "homepage": f"{base}/open-data",
            "created": datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "licenses": [LICENCE],
            "sources": [{"title": "Performance Platform", "path": base}],
            "resources": resources,
        }
        archive.writestr("datapackage.json", orjson.dumps(descriptor, option=orjson.OPT_INDENT_2))
    return buffer.getvalue()


def data_package(moment: int) -> bytes:
    """The bulk download, rebuilt whenever published data or the latest period changes."""
    key = ("data-package", figures.today_of(moment), registry_fingerprint())
    return cached(key, lambda: build_package(moment))
