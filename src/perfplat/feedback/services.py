"""Receiving feedback: check it, store it, and tell the people it concerns (the service's team
and the platform's administrators) through the notifications app, in one transaction: the email
is queued, and `perfplat worker` sends it with the others."""

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from perfplat.accounts.models import User
from perfplat.accounts.permissions import organisation_ids_managed
from perfplat.errors import InvalidRequest

from .models import Feedback

MAX_PAGE_LENGTH = 300


def platform_team() -> list[User]:
    return list(
        User.objects.filter(role=User.PLATFORM_ADMIN, is_active=True)
        .exclude(email="")
        .order_by("email")
    )


def submit_feedback(service, useful: str, message: str, page: str = "") -> Feedback:
    """Store feedback (on a public service's dashboard, or the platform when `service` is
    None) and queue one email to the service's team and the platform's administrators."""
    from perfplat.notifications.services import queue, service_team

    if useful not in ("", Feedback.YES, Feedback.NO):
        raise InvalidRequest("Choose yes or no", field="useful")
    message = (message or "").strip()
    if len(message) > Feedback.MAX_MESSAGE_LENGTH:
        raise InvalidRequest(
            f"Your feedback must be {Feedback.MAX_MESSAGE_LENGTH} characters or fewer",
            field="message",
        )
    if "\x00" in message:
        raise InvalidRequest("Your feedback must not contain the NUL character", field="message")
    if not useful and not message:
        raise InvalidRequest(
            "Choose yes or no, or tell us what you think" if service else "Tell us what you think",
            field="useful" if service else "message",
        )
    # Only a path on this site is kept.
    page = page if page.startswith("/") and not page.startswith("//") else ""
    with transaction.atomic():
        feedback = Feedback.objects.create(
            service=service, useful=useful, message=message, page=page[:MAX_PAGE_LENGTH]
        )
        people = {user.pk: user for user in platform_team()}
        if service is not None:
            people.update({user.pk: user for user in service_team(service)})
        queue(
            list(people.values()),
            "feedback",
            "feedback/email/feedback.txt",
            {
                "feedback": feedback,
                "service": service,
                "link": f"{settings.PERFPLAT_BASE_URL}/manage/feedback",
            },
            f"feedback:{feedback.pk}",
            timezone.now(),
        )
    # The worker sends it with the other queued emails (within a minute: the freshness job).
    return feedback


def feedback_for(user):
    """The feedback a signed-in person may read: all of it for platform admins; for others,
    that on the services of the organisations they work in or administer."""
    found = Feedback.objects.select_related("service__organisation")
    if user.is_platform_admin:
        return found
    ids = organisation_ids_managed(user)
    if user.organisation_id:
        ids = ids | {user.organisation_id}
    return found.filter(service__organisation_id__in=ids)
