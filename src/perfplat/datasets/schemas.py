"""Request and response shapes of the data set management API."""

from datetime import datetime

from ninja import Schema
from pydantic import StrictBool, StrictStr


class FieldOut(Schema):
    """A declared field (datasets.fields.FieldDeclaration)."""

    name: str
    # text, whole-number, number, boolean or date-time
    type: str
    required: bool
    allowed_values: list[str]
    description: str
    # False while the field is only proposed from the data set's first data: writes are
    # checked against confirmed fields only.
    confirmed: bool


def _fields_out(data_set) -> list[dict]:
    from .fields import declared_fields

    return [declaration.as_dict() for declaration in declared_fields(data_set)]


class DataSetOut(Schema):
    id: int
    name: str
    data_group: str
    data_type: str
    service: str | None
    auto_ids: list[str]
    raw_queries_allowed: bool
    max_age_expected: int | None
    published: bool
    cache_max_age: int | None
    upload_format: str
    last_write_at: datetime | None
    url: str
    standard_type: str
    # How its data arrived in the last 90 days: manual, automatic, mixed or no data.
    source: str
    # Whether its last write is older than max_age_expected (services.freshness).
    stale: bool
    # Its declared fields: its standard type's, or those proposed from its first data and
    # confirmed by its team.
    fields: list[FieldOut]

    @staticmethod
    def resolve_fields(data_set) -> list[dict]:
        return _fields_out(data_set)

    @staticmethod
    def resolve_stale(data_set) -> bool:
        from .services import freshness

        return freshness(data_set).stale

    @staticmethod
    def resolve_service(data_set) -> str | None:
        return data_set.service.slug if data_set.service_id else None

    @staticmethod
    def resolve_url(data_set) -> str:
        return f"/data/{data_set.data_group}/{data_set.data_type}"


class DataSetCreated(DataSetOut):
    token: str


class DataSetIn(Schema):
    data_type: str
    data_group: str | None = None
    name: str | None = None
    auto_ids: list[str] = []
    raw_queries_allowed: bool = False
    max_age_expected: int | None = None
    published: bool = False
    cache_max_age: int | None = None
    upload_format: str = "csv"
    standard_type: str = ""


class DataSetPatch(Schema):
    auto_ids: list[str] | None = None
    raw_queries_allowed: bool | None = None
    max_age_expected: int | None = None
    published: bool | None = None
    cache_max_age: int | None = None
    upload_format: str | None = None


class TokenOut(Schema):
    token: str
    message: str


class MessageOut(Schema):
    status: str
    message: str


class FieldIn(Schema):
    name: StrictStr
    # text, whole-number, number, boolean or date-time
    type: StrictStr
    required: StrictBool = False
    # For text fields: the only values the field may hold.
    allowed_values: list[StrictStr] = []
    description: StrictStr = ""


class FieldsIn(Schema):
    fields: list[FieldIn]


class FieldsOut(Schema):
    standard_type: str
    fields: list[FieldOut]
    # Declared fields that have stored values of another type ("1200" as text in a
    # whole-number field): POST .../fields/convert converts them.
    needs_conversion: list[str]


class ConvertIn(Schema):
    dry_run: StrictBool = False


class StoredValueProblemOut(Schema):
    record_id: str
    field: str
    value: str
    problem: str


class ConversionOut(Schema):
    status: str
    message: str
    dry_run: bool
    changed_records: int
    # field -> how many of its values change
    changed_values: dict[str, int]
    # The values that cannot be converted (the first 100; problem_count says how many).
    problems: list[StoredValueProblemOut]
    problem_count: int
