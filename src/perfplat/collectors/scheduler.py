"""The scheduler: periodic jobs kept in the database (ScheduledJob), run by `perfplat worker`.

Each worker process runs `enqueue_due_jobs` every few seconds beside django-tasks' database
worker. Two guarantees keep any number of workers from running one job twice:

1. **Claiming.** A due job is claimed by a conditional UPDATE that moves its `next_run_at` on,
   `WHERE id = ... AND next_run_at = <the value this worker read>`. The database decides: on
   PostgreSQL the second UPDATE waits for the first's row lock, re-reads the row and matches
   nothing; on SQLite writers are serialised (IMMEDIATE transactions). Only the worker whose
   UPDATE changed one row enqueues the task, in the same transaction as the claim, so a claim
   is never lost and a task never exists without its claim.
2. **A lease.** The task takes the job's lease (another conditional UPDATE) before it runs, so
   a "Run now" and a scheduled run, or a task delayed past the next claim, never overlap; the
   task of an older claim steps aside for the newer one.

A job that fails is tried again after PERFPLAT_RETRY_BASE_SECONDS, then twice that, and so on
up to PERFPLAT_RETRY_MAX_SECONDS; its attempts, error and next try are on the row.

**Workers that die.** Every `perfplat worker` beats (WorkerHeartbeat) every few seconds from
its scheduler thread. A task still marked running on a worker that has not beaten for
PERFPLAT_WORKER_TIMEOUT_SECONDS was abandoned (the process was killed, or ran out of memory):
`recover_abandoned_tasks`, which every worker runs as it beats, marks the task failed and lets
the work it was doing recover: an upload is marked failed with a message its page shows (its
transaction stored nothing; the person can commit it again), a scheduled job's lease is released
and the job is due at once. Emails recover by themselves (notifications.services.STUCK_AFTER).
"""

import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import OperationalError, close_old_connections, connections, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.module_loading import import_string

from .models import ScheduledJob, WorkerHeartbeat

logger = logging.getLogger(__name__)

FRESHNESS_JOB = "freshness-check"
DIGEST_JOB = "weekly-digest"
WEEK = 7 * 86400
# How long a run may hold its job before another may start (a worker that died mid-run).
LEASE_SECONDS = 600
# What each kind of job runs: a function of (job, now).
JOB_FUNCTIONS = {
    ScheduledJob.COLLECTOR: "perfplat.collectors.services.run_scheduled",
    ScheduledJob.FRESHNESS: "perfplat.notifications.services.freshness_job",
    ScheduledJob.DIGEST: "perfplat.notifications.services.digest_job",
}


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[:100]


def new_worker_id() -> str:
    """An id for a `perfplat worker` process, unique across the pool (django-tasks records
    it on each task the worker runs; at most 64 characters)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"[:64]


def backoff(attempts: int) -> int:
    """Seconds to wait before trying a job again after `attempts` consecutive failures."""
    base = settings.PERFPLAT_RETRY_BASE_SECONDS
    cap = settings.PERFPLAT_RETRY_MAX_SECONDS
    return min(base * 2 ** max(attempts - 1, 0), cap)


def next_digest_time(now: datetime) -> datetime:
    """Monday 08:00 UTC after `now`: when the weekly digest goes out."""
    now = now.astimezone(UTC)
    monday = (now - timedelta(days=now.weekday())).replace(
        hour=8, minute=0, second=0, microsecond=0
    )
    return monday if monday > now else monday + timedelta(days=7)


def ensure_system_jobs(now: datetime | None = None) -> None:
    """Create the freshness check and weekly digest jobs if they do not exist (safe to call
    from every worker at once)."""
    now = now or timezone.now()
    interval = settings.PERFPLAT_FRESHNESS_CHECK_SECONDS
    job, created = ScheduledJob.objects.get_or_create(
        name=FRESHNESS_JOB,
        defaults={"kind": ScheduledJob.FRESHNESS, "interval": interval, "next_run_at": now},
    )
    if not created and job.interval != interval:
        ScheduledJob.objects.filter(pk=job.pk).update(interval=interval)
    ScheduledJob.objects.get_or_create(
        name=DIGEST_JOB,
        defaults={
            "kind": ScheduledJob.DIGEST,
            "interval": WEEK,
            "next_run_at": next_digest_time(now),
        },
    )


# claiming


def claim(
    job_id: int, seen_next_run_at: datetime, interval: int, now: datetime, worker: str
) -> str | None:
    """Claim a due job whose next_run_at this worker read as `seen_next_run_at`: returns the
    claim's token, or None when another worker claimed it first."""
    token = secrets.token_hex(16)
    won = ScheduledJob.objects.filter(pk=job_id, enabled=True, next_run_at=seen_next_run_at).update(
        next_run_at=now + timedelta(seconds=interval),
        claim_token=token,
        claimed_by=worker[:100],
        claimed_at=now,
    )
    return token if won == 1 else None


def due_jobs(now: datetime, limit: int = 100) -> list[tuple[int, datetime, int]]:
    """(id, next_run_at, interval) of the enabled jobs due at `now`, most overdue first."""
    return list(
        ScheduledJob.objects.filter(enabled=True, next_run_at__lte=now)
        .order_by("next_run_at", "id")
        .values_list("pk", "next_run_at", "interval")[:limit]
    )


def enqueue_due_jobs(
    now: datetime | None = None,
    worker: str = "",
    *,
    after_reading: Callable[[list], None] | None = None,
) -> list[int]:
    """Claim each due job and enqueue a task to run it; returns the ids of the jobs this call
    claimed. `after_reading` is called with the due jobs read, before any claim (tests use it
    to make two claimers race on the same view of the table)."""
    now = now or timezone.now()
    worker = worker or worker_name()
    due = due_jobs(now)
    if after_reading is not None:
        after_reading(due)
    claimed = []
    from .tasks import run_job

    for job_id, seen, interval in due:
        try:
            with transaction.atomic():
                token = claim(job_id, seen, interval, now, worker)
                if token is not None:
                    run_job.enqueue(job_id, token)
                    claimed.append(job_id)
        except OperationalError as error:
            # SQLite's shared-cache databases (the tests') report a lock held by another
            # claimer instead of waiting for it: that claimer has the job.
            if "is locked" not in str(error).lower():
                raise
            logger.info("Scheduled job %s is being claimed by another worker", job_id)
    return claimed


# running


class JobBusy(Exception):
    """Another run of the job holds its lease."""


def acquire_lease(job_id: int, now: datetime, claim_token: str | None = None) -> str | None:
    """Take the job's lease for a run starting at `now`; None if another run holds it, or
    (with `claim_token`) if a newer claim has superseded this one."""
    token = secrets.token_hex(16)
    jobs = ScheduledJob.objects.filter(pk=job_id).filter(
        Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lte=now)
    )
    if claim_token is not None:
        jobs = jobs.filter(claim_token=claim_token)
    taken = jobs.update(
        lease_token=token,
        lease_expires_at=now + timedelta(seconds=LEASE_SECONDS),
        last_started_at=now,
        runs=F("runs") + 1,
    )
    return token if taken == 1 else None


def release_lease(
    job_id: int,
    lease: str,
    now: datetime,
    error: str | None,
    claim_token: str | None = None,
) -> None:
    """End a run and record its outcome. After a scheduled run (`claim_token` given) fails,
    the job is tried again after `backoff(attempts)`; a run people asked for leaves the count
    of failures alone, and when it succeeds the job is back on its normal schedule."""
    mine = ScheduledJob.objects.filter(pk=job_id, lease_token=lease)
    done = {"lease_token": "", "lease_expires_at": None, "last_finished_at": now}
    with transaction.atomic():
        if error is None:
            mine.update(**done, attempts=0, last_success_at=now, last_error="")
            if claim_token is None:
                interval = ScheduledJob.objects.filter(pk=job_id).values_list("interval", flat=True)
                normal = now + timedelta(seconds=interval.first() or 0)
                ScheduledJob.objects.filter(pk=job_id, next_run_at__gt=normal).update(
                    next_run_at=normal
                )
            return
        if claim_token is None:
            mine.update(**done, last_failure_at=now, last_error=error)
            return
        mine.update(**done, attempts=F("attempts") + 1, last_failure_at=now, last_error=error)
        attempts = ScheduledJob.objects.filter(pk=job_id).values_list("attempts", flat=True)
        retry_at = now + timedelta(seconds=backoff(attempts.first() or 1))
        # Only while no newer claim exists: a newer claim has set the next run already.
        ScheduledJob.objects.filter(pk=job_id, claim_token=claim_token).update(next_run_at=retry_at)


def execute(job_id: int, claim_token: str | None = None, now: datetime | None = None) -> str:
    """Run a job now, under its lease: "succeeded", "failed", "busy" (another run holds the
    lease), "superseded" (a newer claim will run it) or "gone". `claim_token` is the claim the
    scheduler made; None for a run people asked for."""
    now = now or timezone.now()
    job = ScheduledJob.objects.select_related("collector__data_set").filter(pk=job_id).first()
    if job is None:
        return "gone"
    if claim_token is not None and job.claim_token != claim_token:
        return "superseded"
    lease = acquire_lease(job_id, now, claim_token)
    if lease is None:
        return "busy"
    try:
        import_string(JOB_FUNCTIONS[job.kind])(job, now)
    except Exception as error:  # noqa: BLE001 - recorded on the job and retried with backoff
        message = getattr(error, "message", None) or f"{type(error).__name__}: {error}"
        if not getattr(error, "expected", False):
            logger.exception("Scheduled job %s failed", job.name)
        release_lease(job_id, lease, now, message, claim_token)
        return "failed"
    release_lease(job_id, lease, now, None, claim_token)
    return "succeeded"


# workers that die


def worker_timeout() -> timedelta:
    return timedelta(seconds=settings.PERFPLAT_WORKER_TIMEOUT_SECONDS)


def beat(worker_id: str, now: datetime | None = None) -> None:
    """Record that the worker is alive (and forget workers not seen for a day)."""
    now = now or timezone.now()
    if not WorkerHeartbeat.objects.filter(worker_id=worker_id).update(seen_at=now):
        WorkerHeartbeat.objects.get_or_create(
            worker_id=worker_id, defaults={"started_at": now, "seen_at": now}
        )
    WorkerHeartbeat.objects.filter(seen_at__lt=now - timedelta(days=1)).delete()


class WorkerStopped(Exception):
    """Recorded on a task whose worker stopped while running it."""


# What the work of each kind of task does when its worker died: a function of
# (args, started_at, now).
ABANDONED = {
    "perfplat.uploads.tasks.process_upload": "perfplat.uploads.services.abandoned",
    "perfplat.collectors.tasks.run_job": "perfplat.collectors.scheduler.abandoned_run",
}


def recover_abandoned_tasks(now: datetime | None = None) -> int:
    """Mark failed every task running on a worker that stopped beating more than
    PERFPLAT_WORKER_TIMEOUT_SECONDS ago, and let its work recover (see the module's
    docstring). Safe to run from every worker at once: each task is taken by one conditional
    UPDATE. Returns how many tasks were recovered."""
    from django_tasks_db.models import DBTaskResult

    from perfplat.datasets.periods import format_timestamp

    now = now or timezone.now()
    cutoff = now - worker_timeout()
    running = list(
        DBTaskResult.objects.filter(status="RUNNING", started_at__lt=cutoff).values_list(
            "pk", "worker_ids", "task_path", "args_kwargs", "started_at"
        )[:100]
    )
    if not running:
        return 0
    alive = set(
        WorkerHeartbeat.objects.filter(seen_at__gte=cutoff).values_list("worker_id", flat=True)
    )
    recovered = 0
    for pk, worker_ids, task_path, arguments, started_at in running:
        worker = worker_ids[-1] if worker_ids else ""
        if worker in alive:
            continue
        seen = WorkerHeartbeat.objects.filter(worker_id=worker).values_list("seen_at", flat=True)
        last = seen.first()
        why = (
            f"Worker {worker} stopped while running this task (last seen "
            f"{format_timestamp(int(last.timestamp())) if last else 'never'})"
        )
        with transaction.atomic():
            taken = DBTaskResult.objects.filter(pk=pk, status="RUNNING").update(
                status="FAILED",
                finished_at=now,
                exception_class_path=f"{__name__}.WorkerStopped",
                traceback=why,
            )
            if taken != 1:
                continue
            recover = ABANDONED.get(task_path)
            if recover is not None:
                import_string(recover)(arguments.get("args", []), started_at, now)
        logger.warning("%s: task %s (%s) marked failed", why, pk, task_path)
        recovered += 1
    return recovered


def abandoned_run(args: list, started_at: datetime, now: datetime) -> None:
    """A run of a scheduled job whose worker died: release the lease it took (unless a later
    run holds it) and make the job due now, so the next claim runs it again."""
    job_id = args[0]
    ScheduledJob.objects.filter(
        pk=job_id, lease_expires_at__gt=now, last_started_at__gte=started_at
    ).exclude(lease_token="").update(
        lease_token="",
        lease_expires_at=None,
        last_finished_at=now,
        last_failure_at=now,
        last_error="The worker running it stopped before it finished",
        next_run_at=now,
    )


# the loop in `perfplat worker`


class SchedulerThread(threading.Thread):
    """Beats for the worker, recovers abandoned tasks and (unless `schedule` is false)
    enqueues due jobs, every `interval` seconds until stopped (a daemon thread: it ends with
    the worker process)."""

    def __init__(self, interval: float = 5.0, worker: str = "", schedule: bool = True):
        super().__init__(name="perfplat-scheduler", daemon=True)
        # Beat several times within the timeout, whatever the schedule interval.
        self.interval = min(interval, settings.PERFPLAT_WORKER_TIMEOUT_SECONDS / 4)
        self.worker = worker
        self.schedule = schedule
        self.stopping = threading.Event()

    def run(self) -> None:
        if not self.schedule:
            # Only beating: the worker beat as it started.
            self.stopping.wait(self.interval)
        while not self.stopping.is_set():
            try:
                if self.worker:
                    beat(self.worker)
                    recover_abandoned_tasks()
                if self.schedule:
                    enqueue_due_jobs(worker=self.worker or worker_name())
            except Exception:  # noqa: BLE001 - a database hiccup must not stop the scheduler
                logger.exception("The scheduler could not enqueue due jobs")
            finally:
                close_old_connections()
            self.stopping.wait(self.interval)
        connections.close_all()

    def stop(self) -> None:
        self.stopping.set()


def start_scheduler(
    interval: float = 5.0, worker: str = "", schedule: bool = True
) -> SchedulerThread:
    thread = SchedulerThread(interval, worker, schedule)
    thread.start()
    return thread
