"""A service's metric catalogue: what it measures, why, and where the numbers come from."""

from django.db import models

from perfplat.datasets.periods import PERIODS


class Metric(models.Model):
    COST_PER_TRANSACTION = "cost-per-transaction"
    USER_SATISFACTION = "user-satisfaction"
    COMPLETION_RATE = "completion-rate"
    DIGITAL_TAKE_UP = "digital-take-up"
    KPIS = [
        (COST_PER_TRANSACTION, "Cost per transaction"),
        (USER_SATISFACTION, "User satisfaction"),
        (COMPLETION_RATE, "Completion rate"),
        (DIGITAL_TAKE_UP, "Digital take-up"),
    ]

    service = models.ForeignKey(
        "registry.Service", on_delete=models.CASCADE, related_name="metrics"
    )
    slug = models.SlugField(max_length=100)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    unit = models.CharField(max_length=50, blank=True, help_text="e.g. £, %, transactions")
    rationale = models.TextField(blank=True, help_text="Why the team measures it")
    # Where the numbers come from: a data set and a read API query over it. A planned metric
    # (at alpha) has no data set yet, only the standard type and fields it will use.
    data_set = models.ForeignKey(
        "datasets.DataSet",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="metrics",
    )
    query = models.CharField(max_length=500, blank=True)
    period = models.CharField(max_length=10, choices=[(p, p) for p in PERIODS], default="month")
    kpi = models.CharField(max_length=30, choices=KPIS, blank=True)
    planned_type = models.CharField(max_length=50, blank=True)
    planned_fields = models.JSONField(default=list, blank=True)
    # The period the planned data will be recorded in (week, month, ...); "" when unknown.
    planned_data_period = models.CharField(
        max_length=10, blank=True, choices=[(p, p) for p in PERIODS]
    )
    # The last support check's verdict ("" until checked).
    support = models.CharField(
        max_length=20,
        blank=True,
        choices=[("supported", "Supported"), ("unsupported", "Not supported")],
    )
    support_problems = models.JSONField(default=list, blank=True)
    support_checked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["service", "name"]
        constraints = [
            models.UniqueConstraint(fields=["service", "slug"], name="unique_metric_slug")
        ]

    def __str__(self):
        return self.name
