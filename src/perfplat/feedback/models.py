"""What the public tells the platform: from the phase banner ("feedback") and from a service's
dashboard ("Is this dashboard useful?"). Nothing about the person is kept: no name, email or
address, only what they chose to write."""

from django.db import models


class Feedback(models.Model):
    YES, NO = "yes", "no"
    USEFUL = [(YES, "Yes"), (NO, "No")]
    MAX_MESSAGE_LENGTH = 2000

    # The dashboard it is about; none for feedback on the platform as a whole.
    service = models.ForeignKey(
        "registry.Service", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    useful = models.CharField(max_length=3, choices=USEFUL, blank=True)
    message = models.TextField(blank=True)
    # The page it was sent from (a path on this site), when the form knew it.
    page = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "feedback"

    def __str__(self):
        about = self.service.name if self.service_id else "the platform"
        return f"feedback on {about} at {self.created_at:%Y-%m-%d %H:%M}"
