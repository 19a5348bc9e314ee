"""Request and response shapes of the beacon API."""

from datetime import date, datetime

from ninja import Schema


class BeaconIn(Schema):
    # The journey's steps in order: the first "start", the last "done".
    steps: list[str]
    # Where the service's pages are served from, like https://www.example.gov.uk.
    origins: list[str]


class DayOut(Schema):
    day: date
    # Counted events per step, in the journey's order.
    steps: dict[str, int]
    bots: int
    prefetches: int
    rejected: int
    # More "done" than "start" events: the completion data set has completed = started.
    completed_clamped: bool


class BeaconOut(Schema):
    service: str
    steps: list[str]
    origins: list[str]
    # The completion data set the daily started and completed counts go to.
    data_set: str
    updated_at: datetime
    # The last 7 days (UTC), newest first.
    days: list[DayOut]
