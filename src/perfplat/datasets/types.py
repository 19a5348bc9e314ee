"""Standard data set types: the declared schemas of the data the four KPIs are computed from.

A data set created from a type has its records checked against the type's schema on every
write (API, upload, collector) in addition to the general record rules; a free-form data set
(no type) only gets the general rules.
"""

from dataclasses import dataclass, field

from .fields import field_problem, from_spec

STRING, INTEGER, NUMBER = "string", "integer", "number"
PERIOD_NAMES = ("day", "week", "month", "quarter")


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str  # string, integer (a whole number) or number
    required: bool = True
    description: str = ""
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    # Filled in when a record does not give the field (so ids and KPIs can rely on it).
    default: object = None


@dataclass(frozen=True)
class DataSetType:
    slug: str
    name: str
    description: str
    fields: tuple[FieldSpec, ...]
    auto_ids: tuple[str, ...]
    # Further rules across fields: (fields, check(record) -> bool, message).
    rules: tuple = field(default=())

    def field(self, name: str) -> FieldSpec | None:
        return next((spec for spec in self.fields if spec.name == name), None)


def _period_field() -> FieldSpec:
    return FieldSpec(
        "period",
        STRING,
        description="The period the record describes, starting at its _timestamp",
        choices=PERIOD_NAMES,
    )


def _count(name: str, description: str) -> FieldSpec:
    return FieldSpec(name, INTEGER, description=description, minimum=0)


TYPES = {
    spec.slug: spec
    for spec in (
        DataSetType(
            "transactions-by-channel",
            "Transactions by channel",
            "Completed transactions per period and channel (digital, phone, paper, ...): "
            "gives digital take-up and the denominator of cost per transaction.",
            (
                _period_field(),
                FieldSpec(
                    "channel",
                    STRING,
                    description="digital for the online service, or another channel's name",
                ),
                _count("count", "Transactions completed in the period through the channel"),
            ),
            ("_timestamp", "period", "channel"),
        ),
        DataSetType(
            "cost",
            "Cost",
            "The cost of providing the service in each period, in pounds, for all channels "
            "together (channel all) or per channel.",
            (
                _period_field(),
                FieldSpec("amount", NUMBER, description="Cost in pounds", minimum=0),
                FieldSpec(
                    "channel",
                    STRING,
                    required=False,
                    default="all",
                    description="The channel the cost is for; all when not given",
                ),
            ),
            ("_timestamp", "period", "channel"),
        ),
        DataSetType(
            "user-satisfaction",
            "User satisfaction",
            "Counts of survey responses per rating: 1 very dissatisfied, 2 dissatisfied, "
            "3 neither, 4 satisfied, 5 very satisfied.",
            (
                _period_field(),
                *(_count(f"rating_{n}", f"Responses rating the service {n}") for n in range(1, 6)),
            ),
            ("_timestamp", "period"),
        ),
        DataSetType(
            "completion",
            "Completion",
            "Digital journeys started and completed in each period.",
            (
                _period_field(),
                _count("started", "Journeys started"),
                _count("completed", "Journeys completed"),
            ),
            ("_timestamp", "period"),
            rules=(
                (
                    ("completed", "started"),
                    lambda record: record["completed"] <= record["started"],
                    "completed cannot be more than started",
                ),
            ),
        ),
    )
}


def _type_problem(spec: FieldSpec, value) -> str | None:
    # The one check of a value against a declared field, for standard and free-form types.
    return field_problem(from_spec(spec), value)


def apply_type(data_set_type: DataSetType, record: dict) -> list[str]:
    """Check one record against a type, filling defaults in place; returns its problems as
    (field, message) pairs."""
    problems = []
    if "_timestamp" not in record:
        problems.append(("_timestamp", "_timestamp is required"))
    for spec in data_set_type.fields:
        if spec.name not in record:
            if spec.default is not None:
                record[spec.name] = spec.default
                continue
            if spec.required:
                problems.append((spec.name, f"field {spec.name!r} is required"))
            continue
        problem = _type_problem(spec, record[spec.name])
        if problem:
            problems.append((spec.name, problem))
    if not problems:
        for fields, check, message in data_set_type.rules:
            if not check(record):
                problems.append((fields[0], message))
    return problems
