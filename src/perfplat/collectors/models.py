"""Collectors (scheduled pulls of a CSV, JSON or XLSX file from a URL into a data set), their run
history, and the scheduled jobs that the background worker runs: one per collector, plus the
freshness check and the weekly digest (perfplat.notifications)."""

from django.conf import settings
from django.db import models


class Collector(models.Model):
    """Pulls a file from `url` every `interval` seconds and writes its rows to `data_set`
    through the write path, mapping each column (or JSON key) to a field."""

    CSV, JSON, XLSX = "csv", "json", "xlsx"
    FORMATS = [(CSV, "CSV"), (JSON, "JSON"), (XLSX, "XLSX (Excel)")]
    # The shortest interval between scheduled pulls.
    MIN_INTERVAL = 60

    data_set = models.ForeignKey(
        "datasets.DataSet", on_delete=models.CASCADE, related_name="collectors"
    )
    name = models.CharField(max_length=100)
    url = models.CharField(max_length=2000)
    format = models.CharField(max_length=10, choices=FORMATS, default=CSV)
    # The sheet of an XLSX file to read ("" for the first one people can see).
    sheet = models.CharField(max_length=255, blank=True, default="")
    # Column header (or JSON key) -> field; "" leaves the column out. Columns not named here
    # are mapped as spreadsheet uploads map them (a field of the same name, a date column).
    mapping = models.JSONField(default=dict, blank=True)
    interval = models.PositiveIntegerField(default=3600)
    paused = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The failing streak: consecutive failed runs (dry runs do not count), since when, and
    # whether the team has been told about this streak (once per streak).
    failure_count = models.PositiveIntegerField(default=0)
    failing_since = models.DateTimeField(null=True, blank=True)
    failure_notified = models.BooleanField(default=False)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["data_set_id", "name", "id"]

    def __str__(self):
        return f"collector {self.name} of {self.data_set}"

    @property
    def status(self) -> str:
        """paused, failing, working or not run yet."""
        if self.paused:
            return "paused"
        if self.failure_count:
            return "failing"
        return "working" if self.last_success_at else "not run yet"


class CollectorRun(models.Model):
    """One pull by a collector: when, what it read, what it wrote, or why it failed."""

    SCHEDULE, MANUAL, DRY_RUN = "schedule", "manual", "dry-run"
    TRIGGERS = [(SCHEDULE, "Schedule"), (MANUAL, "Run now"), (DRY_RUN, "Dry run")]
    SUCCEEDED, FAILED = "succeeded", "failed"
    OUTCOMES = [(SUCCEEDED, "Succeeded"), (FAILED, "Failed")]
    # How many runs each collector keeps in its history.
    KEPT = 200

    collector = models.ForeignKey(Collector, on_delete=models.CASCADE, related_name="runs")
    trigger = models.CharField(max_length=10, choices=TRIGGERS)
    outcome = models.CharField(max_length=10, choices=OUTCOMES)
    # Who pressed "Run now" or "Dry run"; none for scheduled runs.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    # Rows (or JSON items) read, and records written (a dry run: that would be written).
    rows = models.PositiveIntegerField(default=0)
    records = models.PositiveIntegerField(default=0)
    # Why it failed, for people; and the first row errors ({row, column, value, problem}).
    error = models.TextField(blank=True, default="")
    errors = models.JSONField(default=list, blank=True)
    error_count = models.PositiveIntegerField(default=0)
    # A dry run's first records, as they would be stored.
    preview = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["collector", "-started_at"], name="collector_run_time")]

    def __str__(self):
        return f"{self.get_trigger_display()} of {self.collector}: {self.outcome}"

    @property
    def dry_run(self) -> bool:
        return self.trigger == self.DRY_RUN


class ScheduledJob(models.Model):
    """A periodic job. The scheduler claims a due job (moving `next_run_at` on, in a conditional
    UPDATE whose row count says who won) and enqueues a task for it; the task takes a lease so
    that no two runs of a job overlap. Failures are counted in `attempts` and retried with
    exponential backoff."""

    COLLECTOR, FRESHNESS, DIGEST = "collector", "freshness", "digest"
    KINDS = [
        (COLLECTOR, "Collector"),
        (FRESHNESS, "Freshness check"),
        (DIGEST, "Weekly digest"),
    ]

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=20, choices=KINDS)
    collector = models.OneToOneField(
        Collector, null=True, blank=True, on_delete=models.CASCADE, related_name="job"
    )
    interval = models.PositiveIntegerField()
    enabled = models.BooleanField(default=True)
    next_run_at = models.DateTimeField()
    # The latest claim: its token (the task carries it), who made it, when.
    claim_token = models.CharField(max_length=32, blank=True, default="")
    claimed_by = models.CharField(max_length=100, blank=True, default="")
    claimed_at = models.DateTimeField(null=True, blank=True)
    # The run in progress holds the lease until it ends, or until the lease expires (a worker
    # that died mid-run does not block the job for ever).
    lease_token = models.CharField(max_length=32, blank=True, default="")
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # Consecutive failures; 0 after a success.
    attempts = models.PositiveIntegerField(default=0)
    runs = models.PositiveIntegerField(default=0)
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["next_run_at", "id"]
        indexes = [models.Index(fields=["enabled", "next_run_at"], name="scheduled_job_due")]

    def __str__(self):
        return f"scheduled job {self.name}"


class WorkerHeartbeat(models.Model):
    """A `perfplat worker` process, seen alive at `seen_at`: its scheduler thread beats every
    few seconds. A task still running on a worker that has stopped beating for
    PERFPLAT_WORKER_TIMEOUT_SECONDS was abandoned (the process was killed, or ran out of
    memory), and the scheduler's recovery marks it failed (scheduler.recover_abandoned_tasks)."""

    # The worker id django-tasks records on the tasks it runs.
    worker_id = models.CharField(max_length=64, unique=True)
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField(db_index=True)

    def __str__(self):
        return f"worker {self.worker_id}"
