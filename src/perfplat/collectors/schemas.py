"""Request and response shapes of the collector API."""

from datetime import datetime

from ninja import Schema

# The same shapes as uploads' row errors and data sets' messages: one name, one schema in
# the OpenAPI document.
from perfplat.datasets.schemas import MessageOut  # noqa: F401 - collectors.api's reply
from perfplat.uploads.schemas import RowErrorOut


class CollectorIn(Schema):
    name: str
    url: str
    format: str = "csv"
    sheet: str = ""
    # Column header (or JSON key) -> field; "" leaves the column out.
    mapping: dict[str, str] = {}
    # Seconds between scheduled runs: 60 (every minute) or more.
    interval: int = 3600
    paused: bool = False


class CollectorPatch(Schema):
    name: str | None = None
    url: str | None = None
    format: str | None = None
    sheet: str | None = None
    mapping: dict[str, str] | None = None
    interval: int | None = None
    paused: bool | None = None


class CollectorOut(Schema):
    id: int
    data_set_id: int
    data_set: str
    name: str
    url: str
    format: str
    sheet: str
    mapping: dict[str, str]
    interval: int
    paused: bool
    # paused, failing, working or not run yet
    status: str
    failure_count: int
    failing_since: datetime | None
    last_run_at: datetime | None
    last_success_at: datetime | None
    # When the scheduler next runs it (null while paused), and the failed attempts behind it.
    next_run_at: datetime | None
    retry_attempts: int
    created_at: datetime

    @staticmethod
    def resolve_data_set(collector) -> str:
        return str(collector.data_set)

    @staticmethod
    def resolve_next_run_at(collector) -> datetime | None:
        job = getattr(collector, "job", None)
        return None if job is None or collector.paused else job.next_run_at

    @staticmethod
    def resolve_retry_attempts(collector) -> int:
        job = getattr(collector, "job", None)
        return job.attempts if job is not None else 0


class RunOut(Schema):
    id: int
    # schedule, manual ("Run now") or dry-run
    trigger: str
    # succeeded or failed
    outcome: str
    dry_run: bool
    started_at: datetime
    finished_at: datetime
    http_status: int | None
    size: int
    rows: int
    # Records written (a dry run: that would be written).
    records: int
    error: str
    errors: list[RowErrorOut]
    error_count: int
    # A dry run's first records, as they would be stored.
    preview: list[dict]
