"""What a dashboard version holds: its metadata and ordered modules, as a plain JSON document.

    {"audience": "...", "usage": "...", "baseline": "2024-04-01/2025-03-31",
     "modules": [{"kind": "time-series", "title": "...", "description": "...",
                  "data_set": "group/type", "query": "period=week&collect=count:sum",
                  "value": "count:sum", "group": "channel", "metric": "slug", "text": "..."}]}

A completion funnel may instead show every step of the service's journey beacon:
{"kind": "completion-funnel", "source": "beacon", "query": "period=day&duration=28"}, its
query giving only the time range (perfplat.beacon).

The baseline is the period the team measures change from: two dates (both included) written
as an ISO 8601 interval, or "" while it is not chosen.

`clean_content` checks a document (from the editor or the API) and names the exact module and
field of each problem; `default_content` proposes one for a service from its data sets.
"""

from datetime import date
from urllib.parse import parse_qs

from perfplat.datasets.queries import parse_query
from perfplat.errors import InvalidQuery, InvalidRequest

KPIS = "kpis"
TIME_SERIES = "time-series"
GROUPED_TIME_SERIES = "grouped-time-series"
COMPLETION_FUNNEL = "completion-funnel"
SATISFACTION = "satisfaction"
TABLE = "table"
TEXT = "text"
MODULE_KINDS = {
    KPIS: "KPI tiles",
    TIME_SERIES: "Time series",
    GROUPED_TIME_SERIES: "Grouped time series",
    COMPLETION_FUNNEL: "Completion funnel",
    SATISFACTION: "Satisfaction distribution",
    TABLE: "Table",
    TEXT: "Text",
}
# Kinds that read a data set through the read API.
DATA_KINDS = {TIME_SERIES, GROUPED_TIME_SERIES, COMPLETION_FUNNEL, SATISFACTION, TABLE}
METADATA = ("audience", "usage", "baseline")
# A module's `source` when it reads the journey beacon's counts instead of a data set.
BEACON = "beacon"
# The only read API parameters of a beacon funnel's query: its time range.
BEACON_QUERY_PARAMETERS = {"start_at", "end_at", "duration", "period", "inclusive"}
MODULE_KEYS = (
    "kind",
    "source",
    "title",
    "description",
    "data_set",
    "query",
    "value",
    "group",
    "metric",
    "text",
)
MAX_MODULES = 30


def _text(value, where: str, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidRequest(f"{where} must be text", field=where)
    if len(value) > limit:
        raise InvalidRequest(f"{where} must be {limit} characters or fewer", field=where)
    return value.strip()


def _clean_beacon_funnel(where: str, module: dict, clean: dict, has_beacon: bool) -> dict:
    """A completion funnel of the journey beacon's steps: no data set; a query that gives
    only its time range (all time when empty)."""
    source = _text(module.get("source"), f"{where}.source", 20)
    if source != BEACON or clean["kind"] != COMPLETION_FUNNEL:
        raise InvalidRequest(
            f"{where}.source: only a completion funnel has a source, and it can only be "
            f"{BEACON!r} (the journey beacon)",
            field=f"{where}.source",
        )
    if not has_beacon:
        raise InvalidRequest(
            f"{where}.source: the service's journey beacon is off: turn it on first",
            field=f"{where}.source",
        )
    if module.get("data_set"):
        raise InvalidRequest(
            f"{where}.data_set: a funnel of the journey beacon reads no data set",
            field=f"{where}.data_set",
        )
    query = _text(module.get("query"), f"{where}.query", 500)
    params = parse_qs(query, keep_blank_values=True)
    others = sorted(set(params) - BEACON_QUERY_PARAMETERS)
    if others:
        raise InvalidRequest(
            f"{where}.query: a funnel of the journey beacon takes only a time range "
            f"(like period=day&duration=28), not {', '.join(others)}",
            field=f"{where}.query",
        )
    try:
        parse_query(params, raw_queries_allowed=True, now=0)
    except InvalidQuery as error:
        raise InvalidRequest(f"{where}.query: {error.message}", field=f"{where}.query")
    return {**clean, "source": BEACON, "query": query}


def _clean_module(
    index: int, module, data_sets: dict, metrics: set, has_beacon: bool = False
) -> dict:
    where = f"modules[{index}]"
    if not isinstance(module, dict):
        raise InvalidRequest(f"{where} must be an object", field=where)
    unknown = set(module) - set(MODULE_KEYS)
    if unknown:
        raise InvalidRequest(f"{where} has unknown keys: {', '.join(sorted(unknown))}", field=where)
    kind = module.get("kind")
    if kind not in MODULE_KINDS:
        raise InvalidRequest(
            f"{where}.kind must be one of {', '.join(MODULE_KINDS)}", field=f"{where}.kind"
        )
    clean = {
        "kind": kind,
        "title": _text(module.get("title"), f"{where}.title", 200),
        "description": _text(module.get("description"), f"{where}.description", 2000),
    }
    if not clean["title"] and kind != KPIS:
        raise InvalidRequest(f"{where}.title: enter a title", field=f"{where}.title")
    metric = _text(module.get("metric"), f"{where}.metric", 100)
    if metric:
        if metric not in metrics:
            raise InvalidRequest(
                f"{where}.metric: the service has no metric {metric!r}", field=f"{where}.metric"
            )
        clean["metric"] = metric
    if module.get("source"):
        return _clean_beacon_funnel(where, module, clean, has_beacon)
    if kind == TEXT:
        clean["text"] = _text(module.get("text"), f"{where}.text", 10000)
        if not clean["text"]:
            raise InvalidRequest(f"{where}.text: enter the text", field=f"{where}.text")
    if kind in DATA_KINDS:
        address = _text(module.get("data_set"), f"{where}.data_set", 210)
        if address not in data_sets:
            raise InvalidRequest(
                f"{where}.data_set: choose one of the service's data sets "
                f"({', '.join(sorted(data_sets)) or 'it has none yet'})",
                field=f"{where}.data_set",
            )
        query = _text(module.get("query"), f"{where}.query", 500)
        try:
            parsed = parse_query(
                parse_qs(query, keep_blank_values=True), raw_queries_allowed=False, now=0
            )
        except InvalidQuery as error:
            raise InvalidRequest(f"{where}.query: {error.message}", field=f"{where}.query")
        if parsed.format != "json":
            raise InvalidRequest(f"{where}.query: leave format out", field=f"{where}.query")
        clean.update(data_set=address, query=query)
        value = _text(module.get("value"), f"{where}.value", 100)
        keys = {key for item in parsed.collect for key in item.keys} | {"_count"}
        if value and value not in keys:
            raise InvalidRequest(
                f"{where}.value: the query gives {', '.join(sorted(keys))}, not {value!r}",
                field=f"{where}.value",
            )
        clean["value"] = value or "_count"
        if kind == GROUPED_TIME_SERIES:
            group = _text(module.get("group"), f"{where}.group", 100)
            if not group or group not in parsed.group_by or parsed.period is None:
                raise InvalidRequest(
                    f"{where}.group: a grouped time series needs a query with period and "
                    "group_by, and the group_by field here",
                    field=f"{where}.group",
                )
            clean["group"] = group
        elif kind == TIME_SERIES and parsed.period is None:
            raise InvalidRequest(
                f"{where}.query: a time series needs a period", field=f"{where}.query"
            )
    return clean


BASELINE_FORMAT = "two dates like 2024-04-01/2025-03-31 (the first and last day)"
MONTH_NAMES = (
    "January February March April May June July August September October November December"
).split()


def baseline_period(value) -> tuple[date, date] | None:
    """The baseline's first and last day, or None when it is not set (or not two dates)."""
    if not isinstance(value, str) or value.count("/") != 1:
        return None
    try:
        start, end = (date.fromisoformat(part.strip()) for part in value.split("/"))
    except ValueError:
        return None
    return (start, end) if start <= end else None


def baseline_text(value) -> str:
    """The baseline as people read it: "1 April 2024 to 31 March 2025"; "" when not set."""
    period = baseline_period(value)
    if period is None:
        return ""
    return " to ".join(f"{d.day} {MONTH_NAMES[d.month - 1]} {d.year}" for d in period)


def _clean_baseline(value) -> str:
    text = _text(value, "baseline", 100)
    if not text:
        return ""
    period = baseline_period(text)
    if period is None:
        if text.count("/") == 1 and all(_is_date(part) for part in text.split("/")):
            raise InvalidRequest(
                "baseline: the baseline period must end on or after the day it starts",
                field="baseline",
            )
        raise InvalidRequest(f"baseline: give the period as {BASELINE_FORMAT}", field="baseline")
    return f"{period[0].isoformat()}/{period[1].isoformat()}"


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text.strip())
    except ValueError:
        return False
    return True


def clean_content(content, service) -> dict:
    """A checked copy of a dashboard document for `service`; InvalidRequest naming the field."""
    if not isinstance(content, dict):
        raise InvalidRequest("The dashboard must be an object")
    unknown = set(content) - {*METADATA, "modules"}
    if unknown:
        raise InvalidRequest(f"Unknown keys: {', '.join(sorted(unknown))}")
    clean = {name: _text(content.get(name), name, 5000) for name in METADATA if name != "baseline"}
    clean["baseline"] = _clean_baseline(content.get("baseline"))
    modules = content.get("modules") or []
    if not isinstance(modules, list):
        raise InvalidRequest("modules must be a list", field="modules")
    if len(modules) > MAX_MODULES:
        raise InvalidRequest(f"A dashboard has at most {MAX_MODULES} modules", field="modules")
    data_sets = {str(d): d for d in service.data_sets.all()}
    metrics = set(service.metrics.values_list("slug", flat=True))
    has_beacon = any(isinstance(m, dict) and m.get("source") for m in modules) and (
        _has_beacon(service)
    )
    clean["modules"] = [
        _clean_module(index, module, data_sets, metrics, has_beacon)
        for index, module in enumerate(modules)
    ]
    return clean


def _has_beacon(service) -> bool:
    from perfplat.beacon.models import Beacon

    return Beacon.objects.filter(service=service).exists()


def default_content(service) -> dict:
    """A sensible first dashboard from the service's standard data sets."""
    by_type = {d.standard_type: str(d) for d in service.data_sets.all() if d.standard_type}
    modules = [{"kind": KPIS, "title": "Key performance indicators"}]
    transactions = by_type.get("transactions-by-channel")
    if transactions:
        modules += [
            {
                "kind": TIME_SERIES,
                "title": "Transactions per week",
                "data_set": transactions,
                "query": "period=week&collect=count:sum&duration=52",
                "value": "count:sum",
                "description": "Completed transactions through every channel, week by week.",
            },
            {
                "kind": GROUPED_TIME_SERIES,
                "title": "Transactions by channel",
                "data_set": transactions,
                "query": "period=month&group_by=channel&collect=count:sum&duration=12",
                "value": "count:sum",
                "group": "channel",
                "description": "How people complete the service: online and by other channels.",
            },
            {
                "kind": TABLE,
                "title": "Transactions by channel per quarter",
                "data_set": transactions,
                "query": "period=quarter&group_by=channel&collect=count:sum&duration=4",
                "value": "count:sum",
            },
        ]
    completion = by_type.get("completion")
    if completion:
        modules.append(
            {
                "kind": COMPLETION_FUNNEL,
                "title": "Completion over the last 12 weeks",
                "data_set": completion,
                "query": "period=week&collect=started:sum&collect=completed:sum&duration=12",
                "description": "Digital journeys started and completed.",
            }
        )
    if _has_beacon(service):
        modules.append(
            {
                "kind": COMPLETION_FUNNEL,
                "source": BEACON,
                "title": "Steps of the online journey over the last 28 days",
                "query": "period=day&duration=28",
                "description": "How many people reached each step, and how many went on to "
                "the next, counted by the journey beacon.",
            }
        )
    satisfaction = by_type.get("user-satisfaction")
    if satisfaction:
        collect = "&".join(f"collect=rating_{n}:sum" for n in range(1, 6))
        modules.append(
            {
                "kind": SATISFACTION,
                "title": "User satisfaction over the last 12 weeks",
                "data_set": satisfaction,
                "query": f"period=week&{collect}&duration=12",
                "description": "Survey responses from very dissatisfied to very satisfied.",
            }
        )
    cost = by_type.get("cost")
    if cost:
        modules.append(
            {
                "kind": TIME_SERIES,
                "title": "Cost per month",
                "data_set": cost,
                "query": "period=month&collect=amount:sum&duration=12",
                "value": "amount:sum",
                "description": "What providing the service costs, in pounds.",
            }
        )
    modules.append(
        {
            "kind": TEXT,
            "title": "About this data",
            "text": f"The figures come from {service.name}'s own records, sent to the Performance "
            "Platform automatically or uploaded by the service team.",
        }
    )
    return clean_content(
        {
            "audience": service.audience,
            "usage": service.dashboard_usage,
            "baseline": "",
            "modules": modules,
        },
        service,
    )
