"""A service's beacon settings and the counts it has made.

Nothing about a visitor is stored: a count row is a service, a step, an hour and a kind of
event, with how many events there were."""

from django.db import models

from . import events


class Beacon(models.Model):
    """A service's journey beacon: its steps in order (the first "start", the last "done") and
    the origins its pages are served from. A service has a beacon while this row exists."""

    service = models.OneToOneField(
        "registry.Service", on_delete=models.CASCADE, related_name="beacon"
    )
    steps = models.JSONField(default=list)
    origins = models.JSONField(default=list)
    # The completion data set the daily started and completed counts are written to.
    data_set = models.ForeignKey("datasets.DataSet", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"journey beacon of {self.service}"


class BeaconCount(models.Model):
    """How many events of one kind reached one step of a service's journey in one hour.

    Rows are only ever added to by upserts (`count = count + n`), one per key, so the many
    processes counting at once each touch only the rows of the steps they saw."""

    COUNTED, BOT, PREFETCH = events.COUNTED, events.BOT, events.PREFETCH
    UNKNOWN_SERVICE, UNKNOWN_STEP = events.UNKNOWN_SERVICE, events.UNKNOWN_STEP
    UNLISTED_ORIGIN = events.UNLISTED_ORIGIN
    KINDS, REJECTED = events.KINDS, events.REJECTED

    # The service's id; 0 for events sent to a service that has no beacon (or does not
    # exist), so no foreign key.
    service_id = models.BigIntegerField()
    step = models.CharField(max_length=50)
    # The hour's start, in UTC epoch seconds.
    hour = models.BigIntegerField()
    kind = models.CharField(max_length=20)
    count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["service_id", "step", "hour", "kind"], name="unique_beacon_count"
            )
        ]
        indexes = [models.Index(fields=["service_id", "hour"], name="beacon_count_time")]

    def __str__(self):
        return f"{self.count} {self.kind} at step {self.step!r} of service {self.service_id}"
