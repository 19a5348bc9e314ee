"""Freshness monitoring and notification emails (SPEC.md section 9).

- `check_freshness(now)`, run every minute by the scheduler: opens a staleness episode for each
  data set that has become stale and emails its team once; closes the episode when data arrives
  again and emails "data has resumed" once. An episode is a row with a unique constraint on the
  open episode of a data set, so the emails go out once per episode however many checks run.
- `collector_failed`: a collector's failing streak is emailed once. When its data set expects
  data (max_age_expected), the email waits that long: if the data set goes stale first, the
  staleness email names the failing collector instead, so the team gets one email, not two.
- `send_digests(now)`, weekly: each organisation admin gets the stale data sets and failing
  collectors of the bodies they administer (nothing is sent when there are none).

Messages are queued as rows (with a unique key) in the transaction that decides to send them,
then `deliver_pending` sends them through Django's email backend (settings.EMAIL_BACKEND: SMTP,
GOV.UK Notify, the console...), retrying failures with backoff. Every message is kept: people
see theirs in /manage/notifications.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from perfplat.accounts.models import User
from perfplat.accounts.permissions import organisation_ids_managed
from perfplat.collectors.models import Collector
from perfplat.collectors.scheduler import backoff
from perfplat.datasets.models import DataSet
from perfplat.datasets.services import Freshness, freshness, stale_data_sets

from .models import Message, StalenessEpisode

logger = logging.getLogger(__name__)

# A message left "sending" this long (its worker died mid-send) is tried again.
STUCK_AFTER = timedelta(minutes=10)


# words


def duration_text(seconds: float) -> str:
    """A length of time as people say it: "45 seconds", "3 minutes", "2 hours", "8 days"."""
    seconds = round(seconds)
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        # 2.9 minutes is "3 minutes"; 90 seconds stays "90 seconds".
        if seconds >= 2 * size or seconds % size == 0 and seconds:
            count = round(seconds / size)
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{seconds} second{'' if seconds == 1 else 's'}"


def every_text(seconds: float) -> str:
    """How often, as people say it: "every hour", "every 3 minutes"."""
    text = duration_text(seconds)
    return f"every {text[2:] if text.startswith('1 ') else text}"


def moment_text(moment: datetime | None) -> str:
    if moment is None:
        return "never"
    moment = moment.astimezone(UTC)
    return f"{moment.day} {moment:%B %Y} at {moment:%H:%M} UTC"


def _link(path: str) -> str:
    return f"{settings.PERFPLAT_BASE_URL}{path}"


def data_set_link(data_set: DataSet) -> str:
    return _link(f"/manage/data-sets/{data_set.pk}")


def collector_link(collector: Collector) -> str:
    return _link(f"/manage/data-sets/{collector.data_set_id}/collectors/{collector.pk}")


# who is told


def team_of(data_set: DataSet) -> list[User]:
    """The people told about a data set: its service's team (service_team)."""
    return service_team(data_set.service)


def service_team(service) -> list[User]:
    """The people told about a service: the editors and organisation admins of its
    organisation, and the organisation admins of the bodies above it."""
    if service is None:
        return []
    organisation = service.organisation
    above = [body.pk for body in organisation.ancestors()]
    return list(
        User.objects.filter(is_active=True)
        .filter(
            Q(organisation=organisation, role__in=[User.EDITOR, User.ORG_ADMIN])
            | Q(organisation_id__in=above, role=User.ORG_ADMIN)
        )
        .exclude(email="")
        .order_by("email")
    )


def queue(
    users, kind: str, template: str, context: dict, key: str, now: datetime, **about
) -> Message | None:
    """Queue one email of `kind` to all `users` (the template's first line is its subject).
    None when there is nobody to tell, or a message with this key exists already."""
    users = [user for user in users if user.email]
    if not users:
        return None
    text = render_to_string(template, context).strip()
    subject, _, body = text.partition("\n")
    try:
        with transaction.atomic():
            message = Message.objects.create(
                to=", ".join(user.email for user in users),
                kind=kind,
                subject=subject.strip()[:300],
                body=body.strip() + "\n",
                key=key[:200],
                next_attempt_at=now,
                created_at=now,
                **about,
            )
            message.recipients.set(users)
    except IntegrityError:
        # Queued already (the unique key): never twice.
        return None
    return message


# staleness episodes


@dataclass(frozen=True)
class FreshnessCheck:
    opened: list
    closed: list


def _failing_collectors(data_set: DataSet) -> list[dict]:
    collectors = Collector.objects.filter(data_set=data_set, failure_count__gt=0).order_by("name")
    found = []
    for collector in collectors:
        last = collector.runs.filter(outcome="failed").exclude(trigger="dry-run").first()
        found.append(
            {
                "id": collector.pk,
                "name": collector.name,
                "since": moment_text(collector.failing_since),
                "error": last.error if last else "",
            }
        )
    return found


def open_episode(data_set: DataSet, state: Freshness, now: datetime) -> StalenessEpisode | None:
    """Open the data set's staleness episode and queue its team's email; None if another check
    opened it first."""
    failing = _failing_collectors(data_set)
    subject_context = {
        "data_set": str(data_set),
        "service": data_set.service,
        "last_write": moment_text(state.last_write_at),
        "max_age": every_text(state.max_age),
        "stale_since": moment_text(state.stale_since),
        "failing": failing,
        "link": data_set_link(data_set),
    }
    try:
        with transaction.atomic():
            episode = StalenessEpisode.objects.create(
                data_set=data_set,
                detected_at=now,
                stale_since=state.stale_since,
                last_write_at=state.last_write_at,
                max_age=state.max_age,
            )
            # The email names the failing collectors: their streaks need no email of their own.
            Collector.objects.filter(pk__in=[item["id"] for item in failing]).update(
                failure_notified=True
            )
            queue(
                team_of(data_set),
                Message.STALE,
                "notifications/email/stale.txt",
                subject_context,
                f"stale:{episode.pk}",
                now,
                data_set=data_set,
                episode=episode,
            )
    except IntegrityError:
        # The unique open episode: another check opened it (and queued the email).
        return None
    return episode


def close_episode(episode: StalenessEpisode, now: datetime) -> StalenessEpisode | None:
    """Close an episode; when data arrived (rather than the data set no longer expecting any),
    queue the "data has resumed" email. None if another check closed it first."""
    with transaction.atomic():
        data_set = DataSet.objects.select_related("service").get(pk=episode.data_set_id)
        last = data_set.last_write_at
        resumed = last is not None and last > episode.last_write_at
        closed = StalenessEpisode.objects.filter(pk=episode.pk, ended_at__isnull=True).update(
            ended_at=now, resumed=resumed
        )
        if not closed:
            return None
        episode.ended_at, episode.resumed = now, resumed
        if resumed:
            queue(
                team_of(data_set),
                Message.RESUMED,
                "notifications/email/resumed.txt",
                {
                    "data_set": str(data_set),
                    "service": data_set.service,
                    "last_write": moment_text(last),
                    "stale_since": moment_text(episode.stale_since),
                    "duration": duration_text((last - episode.stale_since).total_seconds()),
                    "link": data_set_link(data_set),
                },
                f"resumed:{episode.pk}",
                now,
                data_set=data_set,
                episode=episode,
            )
    return episode


def check_freshness(now: datetime | None = None, deliver: bool = True) -> FreshnessCheck:
    """Open and close staleness episodes as data sets go stale and data resumes, tell the
    teams of failing collectors whose data sets did not go stale, and send what was queued."""
    now = now or timezone.now()
    stale = {data_set.pk: (data_set, state) for data_set, state in stale_data_sets(now)}
    open_episodes = {
        episode.data_set_id: episode
        for episode in StalenessEpisode.objects.filter(ended_at__isnull=True)
    }
    opened, closed = [], []
    for data_set_id, episode in open_episodes.items():
        current = stale.get(data_set_id)
        # Not stale any more, or written to and stale again since: this episode is over.
        if current is None or current[1].last_write_at > episode.last_write_at:
            if close_episode(episode, now) is not None:
                closed.append(episode)
                open_episodes[data_set_id] = None
    for data_set_id, (data_set, state) in stale.items():
        if open_episodes.get(data_set_id) is None:
            episode = open_episode(data_set, state, now)
            if episode is not None:
                opened.append(episode)
    for collector in Collector.objects.filter(failure_count__gt=0, failure_notified=False):
        notify_failing_collector(collector, now)
    if deliver:
        deliver_pending(now)
    return FreshnessCheck(opened, closed)


def freshness_job(job, now: datetime) -> None:
    """The scheduler's freshness check (every PERFPLAT_FRESHNESS_CHECK_SECONDS)."""
    check_freshness(now)


# collectors


def notify_failing_collector(collector: Collector, now: datetime) -> bool:
    """Email the team about a collector's failing streak, once per streak, unless its data set
    is stale (the staleness email says it) or it has not been failing for as long as the data
    set's max_age_expected (it may go stale first)."""
    if not collector.failure_count or collector.failure_notified or not collector.failing_since:
        return False
    data_set = DataSet.objects.select_related("service__organisation").get(pk=collector.data_set_id)
    wait = timedelta(seconds=data_set.max_age_expected or 0)
    if collector.failing_since + wait > now or freshness(data_set, now).stale:
        return False
    if StalenessEpisode.objects.filter(data_set=data_set, ended_at__isnull=True).exists():
        return False
    last = collector.runs.filter(outcome="failed").exclude(trigger="dry-run").first()
    with transaction.atomic():
        claimed = Collector.objects.filter(
            pk=collector.pk, failure_notified=False, failure_count__gt=0
        ).update(failure_notified=True)
        if not claimed:
            return False
        queue(
            team_of(data_set),
            Message.COLLECTOR_FAILING,
            "notifications/email/collector_failing.txt",
            {
                "collector": collector,
                "data_set": str(data_set),
                "service": data_set.service,
                "since": moment_text(collector.failing_since),
                "failures": collector.failure_count,
                "error": last.error if last else "",
                "link": collector_link(collector),
            },
            # One per streak: a streak is known by the moment it began.
            f"collector-failing:{collector.pk}:{collector.failing_since.isoformat()}",
            now,
            data_set=data_set,
            collector=collector,
        )
    collector.failure_notified = True
    return True


def collector_failed(collector: Collector, run, now: datetime) -> None:
    """Called after each failed (not dry) run of a collector."""
    if notify_failing_collector(collector, now):
        deliver_pending(now)


# the weekly digest


def send_digests(now: datetime | None = None, deliver: bool = True) -> int:
    """Queue this week's digest for each organisation admin with something to report; returns
    how many were queued."""
    now = now or timezone.now()
    year, week, _ = now.astimezone(UTC).isocalendar()
    stale = stale_data_sets(now)
    failing = list(
        Collector.objects.filter(failure_count__gt=0)
        .select_related("data_set__service__organisation")
        .order_by("data_set__data_group", "data_set__data_type", "name")
    )
    admins = User.objects.filter(
        role=User.ORG_ADMIN, is_active=True, organisation__isnull=False
    ).select_related("organisation")
    queued = 0
    for admin in admins:
        ids = organisation_ids_managed(admin)

        def mine(data_set, ids=ids):
            return data_set.service_id is not None and data_set.service.organisation_id in ids

        stale_items = [
            {
                "data_set": str(data_set),
                "service": data_set.service.name,
                "last_write": moment_text(state.last_write_at),
                "max_age": every_text(state.max_age),
                "link": data_set_link(data_set),
            }
            for data_set, state in stale
            if mine(data_set)
        ]
        failing_items = [
            {
                "name": collector.name,
                "data_set": str(collector.data_set),
                "since": moment_text(collector.failing_since),
                "error": _last_error(collector),
                "link": collector_link(collector),
            }
            for collector in failing
            if mine(collector.data_set)
        ]
        if not stale_items and not failing_items:
            continue
        message = queue(
            [admin],
            Message.DIGEST,
            "notifications/email/digest.txt",
            {
                "organisation": admin.organisation,
                "several_organisations": len(ids) > 1,
                "stale": stale_items,
                "failing": failing_items,
                "notifications_link": _link("/manage/notifications"),
                "name": admin.name or admin.email,
            },
            f"digest:{year}-W{week:02d}:{admin.pk}",
            now,
        )
        queued += message is not None
    if deliver:
        deliver_pending(now)
    return queued


def _last_error(collector: Collector) -> str:
    last = collector.runs.filter(outcome="failed").exclude(trigger="dry-run").first()
    return last.error if last else ""


def digest_job(job, now: datetime) -> None:
    """The scheduler's weekly digest."""
    send_digests(now)


# sending


def deliver_pending(now: datetime | None = None, limit: int = 200) -> int:
    """Send the queued messages that are due; returns how many were sent. Each message is
    claimed (a conditional UPDATE) before it is sent, so two workers never send it twice."""
    now = now or timezone.now()
    due = (
        Message.objects.filter(
            Q(status=Message.PENDING, next_attempt_at__lte=now)
            | Q(status=Message.SENDING, claimed_at__lt=now - STUCK_AFTER)
        )
        .order_by("id")
        .values_list("pk", "status", "claimed_at")[:limit]
    )
    sent = 0
    for pk, status, claimed_at in list(due):
        claimed = Message.objects.filter(pk=pk, status=status, claimed_at=claimed_at).update(
            status=Message.SENDING, claimed_at=now
        )
        if claimed:
            sent += _send(Message.objects.get(pk=pk), now)
    return sent


def _send(message: Message, now: datetime) -> int:
    attempts = message.attempts + 1
    try:
        EmailMessage(message.subject, message.body, None, message.addresses).send()
    except Exception as error:  # noqa: BLE001 - any backend failure: recorded, tried again
        logger.warning("Could not send message %s to %s: %s", message.pk, message.to, error)
        given_up = attempts >= Message.MAX_ATTEMPTS
        Message.objects.filter(pk=message.pk).update(
            status=Message.FAILED if given_up else Message.PENDING,
            attempts=attempts,
            error=f"{type(error).__name__}: {error}"[:2000],
            next_attempt_at=now + timedelta(seconds=backoff(attempts)),
        )
        return 0
    Message.objects.filter(pk=message.pk).update(
        status=Message.SENT,
        attempts=attempts,
        sent_at=now,
        error="",
        backend=settings.EMAIL_BACKEND[:200],
    )
    return 1


def messages_for(user):
    """The messages sent (or being sent) to a user, newest first."""
    return Message.objects.filter(recipients=user).select_related("data_set", "collector")
