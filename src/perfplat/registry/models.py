"""Who runs what: organisations (a tree of departments, agencies and other bodies) and services."""

from django.conf import settings
from django.db import models


class Organisation(models.Model):
    DEPARTMENT = "department"
    AGENCY = "agency"
    OTHER = "other"
    TYPES = [
        (DEPARTMENT, "Department"),
        (AGENCY, "Agency"),
        (OTHER, "Other public body"),
    ]

    slug = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    abbreviation = models.CharField(max_length=30, blank=True)
    type = models.CharField(max_length=20, choices=TYPES, default=DEPARTMENT)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def ancestors(self) -> list["Organisation"]:
        """This organisation's parent, its parent's parent, and so on."""
        found, current, seen = [], self.parent, {self.pk}
        while current is not None and current.pk not in seen:
            found.append(current)
            seen.add(current.pk)
            current = current.parent
        return found

    def descendant_ids(self) -> set[int]:
        """The ids of this organisation and every body under it."""
        found = {self.pk}
        frontier = [self.pk]
        while frontier:
            frontier = list(
                Organisation.objects.filter(parent_id__in=frontier)
                .exclude(pk__in=found)
                .values_list("pk", flat=True)
            )
            found.update(frontier)
        return found


class Service(models.Model):
    DISCOVERY, ALPHA, BETA, LIVE, RETIRED = "discovery", "alpha", "beta", "live", "retired"
    PHASES = [
        (DISCOVERY, "Discovery"),
        (ALPHA, "Alpha"),
        (BETA, "Beta"),
        (LIVE, "Live"),
        (RETIRED, "Retired"),
    ]

    slug = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="services"
    )
    phase = models.CharField(max_length=20, choices=PHASES, default=DISCOVERY)
    start_page_url = models.URLField(blank=True)
    audience = models.TextField(blank=True, help_text="Who uses the service")
    dashboard_usage = models.TextField(blank=True, help_text="How the dashboard is used")
    previous_assessment_date = models.DateField(null=True, blank=True)
    next_assessment_date = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class PhaseChange(models.Model):
    """A service's phase history: when, from, to, who."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="phase_changes")
    changed_at = models.DateTimeField(auto_now_add=True)
    from_phase = models.CharField(max_length=20, choices=Service.PHASES, blank=True)
    to_phase = models.CharField(max_length=20, choices=Service.PHASES)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self):
        return f"{self.service}: {self.from_phase or 'new'} -> {self.to_phase}"
