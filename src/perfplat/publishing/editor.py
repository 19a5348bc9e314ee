"""The dashboard editor's changes to a draft, as plain functions over its content document:
each returns a new document, which the caller saves with dashboards.services.save_draft (which
checks it and names the module and field of each problem).

Modules are numbered from 1 in the editor's URLs and on its pages, as on the public page.
"""

import copy
import re

from perfplat.dashboards.content import (
    BEACON,
    COMPLETION_FUNNEL,
    DATA_KINDS,
    GROUPED_TIME_SERIES,
    MODULE_KINDS,
    TEXT,
)
from perfplat.errors import InvalidRequest, NotFound

UP, DOWN = "up", "down"


def fields_of_kind(kind: str) -> list[str]:
    """The module keys the editor's form asks for, for a kind of module."""
    fields = ["title", "description"]
    if kind == TEXT:
        fields.append("text")
    if kind in DATA_KINDS:
        fields += ["metric", "data_set", "query", "value"]
        if kind == GROUPED_TIME_SERIES:
            fields.append("group")
    return fields


def check_kind(kind: str) -> str:
    if kind not in MODULE_KINDS:
        raise NotFound(f"There is no kind of module {kind!r}")
    return kind


def module_of(kind: str, values: dict) -> dict:
    """A module of `kind` from the editor's form values (empty ones left out). A completion
    funnel whose data set is the journey beacon (BEACON) reads the beacon instead."""
    module = {"kind": kind}
    for name in fields_of_kind(kind):
        value = (values.get(name) or "").strip()
        if value:
            module[name] = value
    if kind == COMPLETION_FUNNEL and module.get("data_set") == BEACON:
        del module["data_set"]
        module["source"] = BEACON
    return module


def form_values(module: dict) -> dict:
    """The editor's form values of a module: module_of's inverse."""
    if module.get("source") == BEACON:
        return {**module, "data_set": BEACON}
    return module


def with_metric(module: dict, metric) -> dict:
    """A data module that names a metric and no data set reads the metric's data set with its
    query (and its period, for charts over time)."""
    if (
        module["kind"] not in DATA_KINDS
        or metric is None
        or module.get("data_set")
        or module.get("source")
    ):
        return module
    if metric.data_set is None:
        raise InvalidRequest(
            f"The metric {metric.name} has no data set yet: choose a data set", field="data_set"
        )
    module = {**module, "data_set": str(metric.data_set)}
    if not module.get("query"):
        query = metric.query
        if "period=" not in query and metric.period:
            query = f"period={metric.period}&{query}" if query else f"period={metric.period}"
        module["query"] = query
    return module


def _modules(content: dict) -> list:
    return copy.deepcopy(content.get("modules") or [])


def _index(content: dict, number: int) -> int:
    modules = content.get("modules") or []
    if not 1 <= number <= len(modules):
        raise NotFound(f"The dashboard has no module {number}")
    return number - 1


def module_at(content: dict, number: int) -> dict:
    return content["modules"][_index(content, number)]


def added(content: dict, module: dict) -> dict:
    return {**content, "modules": [*_modules(content), module]}


def replaced(content: dict, number: int, module: dict) -> dict:
    modules = _modules(content)
    modules[_index(content, number)] = module
    return {**content, "modules": modules}


def removed(content: dict, number: int) -> dict:
    modules = _modules(content)
    del modules[_index(content, number)]
    return {**content, "modules": modules}


def moved(content: dict, number: int, direction: str) -> dict:
    """The module moved one place up or down (staying put at either end)."""
    if direction not in (UP, DOWN):
        raise InvalidRequest("Move a module up or down", field="direction")
    index = _index(content, number)
    modules = _modules(content)
    other = index - 1 if direction == UP else index + 1
    if 0 <= other < len(modules):
        modules[index], modules[other] = modules[other], modules[index]
    return {**content, "modules": modules}


def with_details(content: dict, audience: str, usage: str, baseline: str) -> dict:
    return {**content, "audience": audience, "usage": usage, "baseline": baseline}


MODULE_FIELD = re.compile(r"modules\[(\d+)\](?:\.(\w+))?")


def field_in_module(error: InvalidRequest, number: int) -> str | None:
    """The field of the module at `number` that a content error is about; None when the error
    is about another module or the document."""
    match = MODULE_FIELD.fullmatch(error.field or "")
    if match is None or int(match.group(1)) != number - 1:
        return None
    return match.group(2) or None
