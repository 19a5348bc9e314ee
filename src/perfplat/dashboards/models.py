"""A service's public dashboard, kept as numbered versions that move through review.

The public sees only the published version; editors work on a draft meanwhile. The content of
a version (its metadata and modules) is a JSON document checked by dashboards.content.
"""

from django.conf import settings
from django.db import models


class Dashboard(models.Model):
    service = models.OneToOneField(
        "registry.Service", on_delete=models.CASCADE, related_name="dashboard"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"dashboard of {self.service}"


class DashboardVersion(models.Model):
    DRAFT = "draft"
    IN_REVIEW = "in-review"
    PUBLISHED = "published"
    # A published version replaced by a newer one, or taken down by unpublishing.
    SUPERSEDED = "superseded"
    UNPUBLISHED = "unpublished"
    STATES = [
        (DRAFT, "Draft"),
        (IN_REVIEW, "In review"),
        (PUBLISHED, "Published"),
        (SUPERSEDED, "Superseded"),
        (UNPUBLISHED, "Unpublished"),
    ]

    dashboard = models.ForeignKey(Dashboard, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    state = models.CharField(max_length=20, choices=STATES, default=DRAFT)
    content = models.JSONField(default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    # The reviewer's comment when a version is sent back.
    review_comment = models.TextField(blank=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["dashboard", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["dashboard", "number"], name="unique_version_number")
        ]

    def __str__(self):
        return f"version {self.number} ({self.get_state_display().lower()}) of {self.dashboard}"

    @property
    def service(self):
        return self.dashboard.service
