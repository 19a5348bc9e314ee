"""Assessment snapshots: what a service's dashboard said, and its KPIs, at a Service Standard
assessment, frozen so that later data never changes them.

(The dashboards and their versions are perfplat.dashboards' models; this app holds the pages,
the API and the snapshots around them.)
"""

from django.conf import settings
from django.db import models


class AssessmentSnapshot(models.Model):
    ALPHA, BETA, LIVE = "alpha", "beta", "live"
    PHASES = [(ALPHA, "Alpha"), (BETA, "Beta"), (LIVE, "Live")]
    MET, NOT_MET, IN_PROGRESS = "met", "not-met", "in-progress"
    OUTCOMES = [(MET, "Met"), (NOT_MET, "Not met"), (IN_PROGRESS, "In progress")]

    service = models.ForeignKey(
        "registry.Service", on_delete=models.CASCADE, related_name="snapshots"
    )
    phase = models.CharField(max_length=20, choices=PHASES)
    assessed_on = models.DateField()
    outcome = models.CharField(max_length=20, choices=OUTCOMES)
    # The assessors' notes, for the team and admins (not shown on the public page).
    notes = models.TextField(blank=True)
    # Frozen when recorded: the service's and its dashboard's metadata (name, phase, audience,
    # usage, baseline, the dashboard version), and the KPIs of the last complete month before
    # the assessment date as the KPI API gives them (kpis.schemas.period_json).
    metadata = models.JSONField(default=dict)
    kpis = models.JSONField(default=dict)
    # The team's account of how the service has evolved since the previous assessment.
    evolution = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["service", "assessed_on", "pk"]

    def __str__(self):
        return (
            f"{self.get_phase_display().lower()} assessment of {self.service} on {self.assessed_on}"
        )


class EvolutionNote(models.Model):
    """The team's account, written before the service's coming assessment, of how it has
    evolved since the previous one. Recording that assessment moves the note into its snapshot
    (publishing.assessments.record_assessment)."""

    service = models.OneToOneField(
        "registry.Service", on_delete=models.CASCADE, related_name="evolution_note"
    )
    text = models.TextField(blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"how {self.service} has evolved, for its coming assessment"
