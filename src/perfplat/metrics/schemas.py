"""Request and response shapes of the metric catalogue and support check API."""

from ninja import Schema


class MetricOut(Schema):
    id: int
    slug: str
    name: str
    description: str
    unit: str
    rationale: str
    data_set: int | None
    query: str
    period: str
    kpi: str
    planned_type: str
    planned_fields: list[str]
    planned_data_period: str
    support: str
    support_problems: list[str]
    source: str

    @staticmethod
    def resolve_data_set(metric) -> int | None:
        return metric.data_set_id


class MetricIn(Schema):
    slug: str
    name: str
    description: str = ""
    unit: str = ""
    rationale: str = ""
    data_set: int | None = None
    query: str = ""
    period: str = "month"
    kpi: str = ""
    planned_type: str = ""
    planned_fields: list[str] = []
    planned_data_period: str = ""


class MetricPatch(Schema):
    slug: str | None = None
    name: str | None = None
    description: str | None = None
    unit: str | None = None
    rationale: str | None = None
    data_set: int | None = None
    query: str | None = None
    period: str | None = None
    kpi: str | None = None
    planned_type: str | None = None
    planned_fields: list[str] | None = None
    planned_data_period: str | None = None


class PlannedMetricIn(Schema):
    name: str
    data_set_type: str = ""
    fields: list[str] = []
    period: str = "month"
    data_period: str = ""
    query: str = ""
    kpi: str = ""
    sample_records: list[dict] = []


class SupportCheckIn(Schema):
    # The planned metrics to check; none, with `record`, checks the catalogue again.
    metrics: list[PlannedMetricIn] = []
    # Keep the verdicts: the planned metrics are added to the catalogue with theirs (as the
    # support check page's "Add to the catalogue" does), or, with no planned metrics, every
    # catalogued metric is checked again and keeps its new verdict ("Check the metrics").
    record: bool = False


class VerdictOut(Schema):
    name: str
    supported: bool
    problems: list[str]
    # The catalogued metric the verdict is kept on; null for a dry run.
    metric: int | None = None
