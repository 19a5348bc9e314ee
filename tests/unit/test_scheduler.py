"""The scheduler: periodic jobs in the database, claimed by exactly one worker however many
race for them, run under a lease, retried with exponential backoff; and `perfplat worker`."""

import os
import subprocess
import sys
import textwrap
import threading
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from django.db import connection
from django_tasks_db.models import DBTaskResult

from collector_fixtures import GOOD_CSV
from perfplat.collectors import scheduler, services
from perfplat.collectors.models import ScheduledJob
from perfplat.errors import Conflict

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def a_job(name="job", interval=60, next_run_at=T0, kind=ScheduledJob.FRESHNESS, **fields):
    return ScheduledJob.objects.create(
        name=name, kind=kind, interval=interval, next_run_at=next_run_at, **fields
    )


@pytest.fixture
def job_function(monkeypatch):
    """The function every job runs: records each call; raises while `failures` is positive."""

    class Function:
        calls: list = []
        failures = 0

        def __call__(self, job, now):
            self.calls.append((job.name, now))
            if self.failures:
                self.failures -= 1
                raise RuntimeError("the source is down")

    function = Function()
    function.calls = []
    monkeypatch.setattr(scheduler, "import_string", lambda path: function)
    return function


def tasks() -> list[dict]:
    return [row.args_kwargs for row in DBTaskResult.objects.order_by("enqueued_at")]


# claiming


def test_a_due_job_is_claimed_once_and_its_task_enqueued(db):
    job = a_job()
    assert scheduler.enqueue_due_jobs(T0, "worker-1") == [job.pk]
    job.refresh_from_db()
    assert (job.next_run_at, job.claimed_by, job.claimed_at) == (
        T0 + timedelta(seconds=60),
        "worker-1",
        T0,
    )
    assert tasks() == [{"args": [job.pk, job.claim_token], "kwargs": {}}]
    # Nothing is due again until the next interval.
    assert scheduler.enqueue_due_jobs(T0 + timedelta(seconds=59), "worker-2") == []
    assert len(tasks()) == 1


def test_jobs_not_yet_due_or_disabled_are_not_claimed(db):
    a_job("later", next_run_at=T0 + timedelta(seconds=1))
    a_job("paused", enabled=False)
    assert scheduler.enqueue_due_jobs(T0, "worker-1") == []
    assert tasks() == []


def test_a_claim_made_on_an_out_of_date_view_of_the_job_loses(db):
    job = a_job()
    [(job_id, seen, interval)] = scheduler.due_jobs(T0)
    # Another worker read the same row and claimed it first.
    assert scheduler.claim(job_id, seen, interval, T0, "worker-2") is not None
    assert scheduler.claim(job_id, seen, interval, T0, "worker-1") is None
    job.refresh_from_db()
    assert job.claimed_by == "worker-2"


def test_two_workers_racing_for_a_due_job_claim_it_once(transactional_db):
    job = a_job()
    both_read = threading.Barrier(2, timeout=10)
    claimed, errors = {}, []

    def worker(name):
        try:
            # Both read the due job before either claims it.
            claimed[name] = scheduler.enqueue_due_jobs(
                T0, name, after_reading=lambda due: both_read.wait()
            )
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(f"worker-{n}",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(claimed.values()) == [[], [job.pk]]
    assert len(tasks()) == 1


RACER = textwrap.dedent(
    """
    import json, os, sys, time
    os.environ["DJANGO_SETTINGS_MODULE"] = "perfplat.settings"
    import django
    django.setup()
    from datetime import datetime
    from perfplat.collectors import scheduler
    start = float(sys.argv[2])
    now = datetime.fromisoformat(sys.argv[3])
    scheduler.due_jobs(now)  # connected and warmed up before the start
    time.sleep(max(0, start - time.time()))
    print(json.dumps(scheduler.enqueue_due_jobs(now, sys.argv[1])))
    """
)


def _database_url(tmp_path) -> str:
    if connection.vendor == "postgresql":
        params = connection.settings_dict
        return (
            f"postgres://{params['USER']}:{params['PASSWORD'] or ''}@{params['HOST']}:"
            f"{params['PORT']}/{params['NAME']}"
        )
    return f"sqlite:///{tmp_path / 'racing.sqlite3'}"


def test_two_worker_processes_never_run_one_job_twice(transactional_db, tmp_path):
    """Two real processes, each with its own connection (SQLite: a file database, as in
    production; PostgreSQL: the test database), claim the same due job at the same moment."""
    import time

    url = _database_url(tmp_path)
    env = {**os.environ, "DATABASE_URL": url}
    perfplat = os.path.join(os.path.dirname(sys.executable), "perfplat")
    setup = (
        "import os; os.environ['DJANGO_SETTINGS_MODULE'] = 'perfplat.settings'; "
        "import django; django.setup(); "
        "from datetime import datetime; from perfplat.collectors.models import ScheduledJob; "
        "ScheduledJob.objects.create(name='racing', kind='freshness', interval=60, "
        f"next_run_at=datetime.fromisoformat('{T0.isoformat()}'))"
    )
    if connection.vendor == "sqlite":
        subprocess.run([perfplat, "migrate", "-v", "0"], env=env, check=True, timeout=120)
        subprocess.run([sys.executable, "-c", setup], env=env, check=True, timeout=60)
    else:
        a_job("racing")
    start = time.time() + 2
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, f"worker-{n}", str(start), T0.isoformat()],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for n in (1, 2)
    ]
    outputs = [racer.communicate(timeout=60) for racer in racers]
    assert [racer.returncode for racer in racers] == [0, 0], [err for _, err in outputs]
    claims = sorted(orjson.loads(out.splitlines()[-1]) for out, _ in outputs)
    assert [len(claim) for claim in claims] == [0, 1]
    count = (
        "import os; os.environ['DJANGO_SETTINGS_MODULE'] = 'perfplat.settings'; "
        "import django; django.setup(); "
        "from django_tasks_db.models import DBTaskResult; print(DBTaskResult.objects.count())"
    )
    counted = subprocess.run(
        [sys.executable, "-c", count], env=env, check=True, timeout=60, capture_output=True
    )
    assert counted.stdout.decode().strip() == "1"


# running, leases and retries


def test_a_claimed_job_runs_under_its_lease(db, job_function):
    job = a_job()
    scheduler.enqueue_due_jobs(T0, "worker-1")
    job.refresh_from_db()
    assert scheduler.execute(job.pk, job.claim_token, T0) == "succeeded"
    job.refresh_from_db()
    assert (job.runs, job.attempts, job.last_success_at, job.lease_token) == (1, 0, T0, "")
    assert job_function.calls == [("job", T0)]


def test_a_task_of_an_older_claim_steps_aside(db, job_function):
    job = a_job()
    scheduler.enqueue_due_jobs(T0, "worker-1")
    old = ScheduledJob.objects.get(pk=job.pk).claim_token
    scheduler.enqueue_due_jobs(T0 + timedelta(seconds=60), "worker-1")
    new = ScheduledJob.objects.get(pk=job.pk).claim_token
    later = T0 + timedelta(seconds=61)
    assert scheduler.execute(job.pk, old, later) == "superseded"
    assert scheduler.execute(job.pk, new, later) == "succeeded"
    assert len(job_function.calls) == 1


def test_a_job_whose_lease_is_held_does_not_run_again(db, job_function):
    job = a_job()
    scheduler.enqueue_due_jobs(T0, "worker-1")
    token = ScheduledJob.objects.get(pk=job.pk).claim_token
    lease = scheduler.acquire_lease(job.pk, T0)
    assert scheduler.execute(job.pk, token, T0) == "busy"
    assert job_function.calls == []
    # A lease left by a worker that died expires.
    assert lease is not None
    expired = T0 + timedelta(seconds=scheduler.LEASE_SECONDS)
    assert scheduler.execute(job.pk, token, expired) == "succeeded"


def test_failures_are_retried_with_exponential_backoff(db, job_function, settings):
    settings.PERFPLAT_RETRY_BASE_SECONDS = 30
    settings.PERFPLAT_RETRY_MAX_SECONDS = 900
    job = a_job(interval=3600)
    job_function.failures = 3
    now = T0
    seen = []
    for _ in range(4):
        assert scheduler.enqueue_due_jobs(now, "worker-1") == [job.pk]
        job.refresh_from_db()
        outcome = scheduler.execute(job.pk, job.claim_token, now)
        job.refresh_from_db()
        seen.append((outcome, job.attempts, (job.next_run_at - now).total_seconds()))
        # Not due before its retry time.
        assert scheduler.enqueue_due_jobs(job.next_run_at - timedelta(seconds=1)) == []
        now = job.next_run_at
    assert seen == [
        ("failed", 1, 30),
        ("failed", 2, 60),
        ("failed", 3, 120),
        ("succeeded", 0, 3600),
    ]
    assert (job.last_error, job.runs) == ("", 4)
    assert job.last_failure_at == T0 + timedelta(seconds=90)


def test_a_failure_is_recorded_with_its_message(db, job_function):
    job = a_job()
    job_function.failures = 1
    scheduler.enqueue_due_jobs(T0, "worker-1")
    job.refresh_from_db()
    scheduler.execute(job.pk, job.claim_token, T0)
    job.refresh_from_db()
    assert (job.attempts, job.last_error, job.last_failure_at) == (
        1,
        "RuntimeError: the source is down",
        T0,
    )


def test_backoff_doubles_up_to_its_limit(settings):
    settings.PERFPLAT_RETRY_BASE_SECONDS = 30
    settings.PERFPLAT_RETRY_MAX_SECONDS = 900
    assert [scheduler.backoff(n) for n in range(1, 8)] == [30, 60, 120, 240, 480, 900, 900]


def test_the_system_jobs_are_made_once(db, settings):
    settings.PERFPLAT_FRESHNESS_CHECK_SECONDS = 60
    scheduler.ensure_system_jobs(T0)
    scheduler.ensure_system_jobs(T0)
    jobs = {job.name: job for job in ScheduledJob.objects.all()}
    assert sorted(jobs) == ["freshness-check", "weekly-digest"]
    assert (jobs["freshness-check"].interval, jobs["freshness-check"].next_run_at) == (60, T0)
    # T0 is a Monday at 09:00 UTC: the digest goes out the next Monday at 08:00.
    assert jobs["weekly-digest"].next_run_at == datetime(2026, 3, 9, 8, 0, tzinfo=UTC)
    assert jobs["weekly-digest"].interval == 7 * 86400


# collectors on the schedule


def test_a_failing_scheduled_collector_backs_off_and_recovers(typed, source, collecting, settings):
    settings.PERFPLAT_RETRY_BASE_SECONDS = 30
    collector = services.create_collector(
        None,
        typed,
        T0,
        name="Export",
        url=source.answer(body=b"", status=502),
        mapping={"Transactions": "count"},
        interval=300,
    )
    job = collector.job
    scheduler.enqueue_due_jobs(T0, "worker-1")
    job.refresh_from_db()
    assert scheduler.execute(job.pk, job.claim_token, T0) == "failed"
    job.refresh_from_db()
    assert (job.attempts, job.last_error, job.next_run_at) == (
        1,
        "The server answered 502 Bad Gateway",
        T0 + timedelta(seconds=30),
    )
    source.answer(body=GOOD_CSV)
    retry = T0 + timedelta(seconds=30)
    scheduler.enqueue_due_jobs(retry, "worker-1")
    job.refresh_from_db()
    assert scheduler.execute(job.pk, job.claim_token, retry) == "succeeded"
    job.refresh_from_db()
    assert (job.attempts, job.next_run_at) == (0, retry + timedelta(seconds=300))
    assert list(collector.runs.values_list("trigger", "outcome")) == [
        ("schedule", "succeeded"),
        ("schedule", "failed"),
    ]


def test_run_now_is_refused_while_a_scheduled_run_holds_the_lease(typed, source, collecting):
    collector = services.create_collector(
        None, typed, name="Export", url=source.answer(body=GOOD_CSV)
    )
    scheduler.acquire_lease(collector.job.pk, datetime.now(UTC))
    with pytest.raises(Conflict) as raised:
        services.run_now(None, collector)
    assert raised.value.message == (
        "The collector is running at the moment: its run will be in the history when it ends"
    )
    assert source.requests == []


def test_pausing_stops_the_schedule_and_resuming_runs_it_now(typed, source, collecting):
    collector = services.create_collector(
        None, typed, T0, name="Export", url=source.answer(body=GOOD_CSV)
    )
    services.update_collector(None, collector, T0, paused=True)
    assert scheduler.enqueue_due_jobs(T0 + timedelta(days=1)) == []
    later = T0 + timedelta(days=2)
    services.update_collector(None, collector, later, paused=False)
    assert scheduler.enqueue_due_jobs(later) == [collector.job.pk]


@pytest.fixture
def run_worker(monkeypatch):
    """`perfplat worker --once`, keeping the test's database connection open."""
    from django_tasks_db.management.commands import db_worker

    from perfplat.cli import main

    # The worker drops connections that are not in autocommit mode, which a test's
    # transaction never is: on PostgreSQL that would close the test's own connection.
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    return lambda: main(["worker", "--once"])


def test_the_worker_runs_due_collectors_and_the_freshness_check(
    typed, source, collecting, run_worker
):
    collector = services.create_collector(
        None,
        typed,
        name="Export",
        url=source.answer(body=GOOD_CSV),
        mapping={"Transactions": "count"},
    )
    assert run_worker() == 0
    assert list(collector.runs.values_list("trigger", "outcome", "records")) == [
        ("schedule", "succeeded", 3)
    ]
    runs = dict(ScheduledJob.objects.values_list("name", "runs"))
    assert runs == {f"collector-{collector.pk}": 1, "freshness-check": 1, "weekly-digest": 0}
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"SUCCESSFUL"}
    # Nothing is due now: a second pass runs nothing.
    assert run_worker() == 0
    assert collector.runs.count() == 1


def test_the_scheduler_thread_enqueues_due_jobs_until_stopped(transactional_db):
    job = a_job(next_run_at=datetime.now(UTC) - timedelta(seconds=1))
    thread = scheduler.start_scheduler(interval=0.05, worker="thread")
    try:
        for _ in range(100):
            if DBTaskResult.objects.exists():
                break
            threading.Event().wait(0.05)
    finally:
        thread.stop()
        thread.join(timeout=5)
    assert not thread.is_alive()
    job.refresh_from_db()
    assert (job.claimed_by, len(tasks())) == ("thread", 1)
