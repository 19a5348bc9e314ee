"""Staleness episodes (a data set out of date, from the moment it is found stale until data
arrives again) and the emails sent about them, which people see in /manage/notifications."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class StalenessEpisode(models.Model):
    """One stretch of time a data set was stale. A data set has at most one open episode (a
    unique constraint), which is what makes its team's email go out once per episode however
    many freshness checks run, on however many workers."""

    data_set = models.ForeignKey(
        "datasets.DataSet", on_delete=models.CASCADE, related_name="staleness_episodes"
    )
    # When the freshness check found it stale, and when it became stale (its last write plus
    # its max_age_expected).
    detected_at = models.DateTimeField()
    stale_since = models.DateTimeField()
    last_write_at = models.DateTimeField()
    max_age = models.PositiveIntegerField()
    ended_at = models.DateTimeField(null=True, blank=True)
    # Ended by a new write ("data has resumed"), rather than by the data set no longer
    # expecting data (its max_age_expected removed) or being emptied.
    resumed = models.BooleanField(default=False)

    class Meta:
        ordering = ["-detected_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["data_set"],
                condition=Q(ended_at__isnull=True),
                name="one_open_staleness_episode",
            )
        ]

    def __str__(self):
        return f"{self.data_set} stale since {self.stale_since:%Y-%m-%d %H:%M}"


class Message(models.Model):
    """An email: queued in the transaction of what it is about, then sent by
    `services.deliver_pending`. One message goes to all the people it concerns (a data set's
    team gets one email, not one each); `key` is unique, so no message is queued twice."""

    STALE = "stale"
    RESUMED = "resumed"
    COLLECTOR_FAILING = "collector-failing"
    DIGEST = "digest"
    FEEDBACK = "feedback"
    KINDS = [
        (STALE, "Data out of date"),
        (RESUMED, "Data resumed"),
        (COLLECTOR_FAILING, "Collector failing"),
        (DIGEST, "Weekly digest"),
        (FEEDBACK, "Feedback from the public"),
    ]
    PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
    STATUSES = [
        (PENDING, "Waiting to be sent"),
        (SENDING, "Sending"),
        (SENT, "Sent"),
        (FAILED, "Could not be sent"),
    ]
    # Sending is tried this many times, with backoff, before the message is given up.
    MAX_ATTEMPTS = 5

    recipients = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="notifications", blank=True
    )
    # The addresses it was sent to, as they were then (comma-separated).
    to = models.TextField()
    kind = models.CharField(max_length=20, choices=KINDS)
    subject = models.CharField(max_length=300)
    body = models.TextField()
    key = models.CharField(max_length=200, unique=True)
    data_set = models.ForeignKey(
        "datasets.DataSet", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    collector = models.ForeignKey(
        "collectors.Collector",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    episode = models.ForeignKey(
        StalenessEpisode,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
    )
    status = models.CharField(max_length=10, choices=STATUSES, default=PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    # The email backend that sent it (SMTP, GOV.UK Notify, the console...).
    backend = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="message_due")]

    def __str__(self):
        return f"{self.get_kind_display()} email to {self.to}"

    @property
    def addresses(self) -> list[str]:
        return [address.strip() for address in self.to.split(",") if address.strip()]
