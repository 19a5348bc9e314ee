"""Background work whose worker died recovers (issue 13, finding 3).

A `perfplat worker` beats every few seconds; a task still running on a worker that stopped
beating is marked failed, and its work recovers: an upload's work is queued again once, and the
second time it is marked failed with a message its page shows, and can be committed again; a
scheduled job's lease is released and it is due at once. The last test really kills a worker
(SIGKILL) in the middle of committing an upload.
"""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from perfplat.collectors import scheduler
from perfplat.collectors.models import ScheduledJob, WorkerHeartbeat
from perfplat.datasets.services import DataSetSettings, create_data_set
from perfplat.uploads import services
from perfplat.uploads.models import Upload
from perfplat.uploads.tasks import process_upload
from spreadsheets import csv_file

GOOD = [
    ["Week starting", "Period", "Channel", "Count"],
    ["01/01/2024", "week", "digital", "1,234"],
    ["01/01/2024", "week", "phone", "56"],
]
COMMIT_AGAIN = (
    "The background worker stopped while storing the records of this file (it was restarted "
    "or ran out of memory), so no records were stored. Commit it again."
)


@pytest.fixture
def typed(world):
    data_set, _ = create_data_set(
        None,
        "transactions-by-channel",
        service=world.service,
        settings=DataSetSettings(standard_type="transactions-by-channel"),
    )
    return data_set


def running_on(worker: str, started_ago: int, upload: Upload, step: str) -> DBTaskResult:
    """The upload's task, claimed by `worker` `started_ago` seconds ago."""
    result = DBTaskResult.objects.get(pk=process_upload.enqueue(upload.pk, step).id)
    result.claim(worker)
    DBTaskResult.objects.filter(pk=result.pk).update(
        started_at=timezone.now() - timedelta(seconds=started_ago)
    )
    return result


def committing(typed, world, restarts=services.MAX_RESTARTS) -> Upload:
    """A checked upload whose commit had begun: what a worker leaves when it dies storing
    (by default, its work already started again as often as it may be)."""
    upload = services.receive(typed, csv_file(GOOD), "figures.csv", actor=world.editor)
    Upload.objects.filter(pk=upload.pk).update(
        status=Upload.COMMITTING, progress=60, restarts=restarts
    )
    return Upload.objects.get(pk=upload.pk)


def test_an_uploads_work_whose_worker_stopped_is_queued_again_once(typed, world, settings):
    upload = committing(typed, world, restarts=0)
    now = timezone.now()
    WorkerHeartbeat.objects.create(
        worker_id="dead", started_at=now - timedelta(hours=1), seen_at=now - timedelta(seconds=61)
    )
    first = running_on("dead", 120, upload, "commit")
    assert scheduler.recover_abandoned_tasks(now) == 1
    upload.refresh_from_db()
    assert (upload.status, upload.restarts, upload.failure_message) == (Upload.QUEUED, 1, "")
    again = DBTaskResult.objects.exclude(pk=first.pk).get()
    assert (again.status, again.args_kwargs["args"]) == ("READY", [upload.pk, "commit"])
    # The work queued again dies too: the upload says so and can be committed again.
    again.claim("dead")
    DBTaskResult.objects.filter(pk=again.pk).update(started_at=now - timedelta(seconds=120))
    assert scheduler.recover_abandoned_tasks(now) == 1
    upload.refresh_from_db()
    assert (upload.status, upload.failure_message) == (Upload.FAILED, COMMIT_AGAIN)
    # Committing again is a person's new request: it may be started again once more.
    settings.PERFPLAT_UPLOAD_BACKGROUND_ROWS = 1
    services.commit(upload, world.editor, background=True)
    upload.refresh_from_db()
    assert (upload.status, upload.restarts) == (Upload.QUEUED, 0)


def test_a_task_whose_worker_stopped_beating_fails_and_its_upload_says_why(typed, world):
    upload = committing(typed, world)
    now = timezone.now()
    WorkerHeartbeat.objects.create(
        worker_id="dead", started_at=now - timedelta(hours=1), seen_at=now - timedelta(seconds=61)
    )
    task = running_on("dead", 120, upload, "commit")
    assert scheduler.recover_abandoned_tasks(now) == 1
    task.refresh_from_db()
    assert (task.status, task.exception_class_path) == (
        "FAILED",
        "perfplat.collectors.scheduler.WorkerStopped",
    )
    upload.refresh_from_db()
    assert (upload.status, upload.failure_message) == (Upload.FAILED, COMMIT_AGAIN)
    assert upload.can_commit
    # Recovering again finds nothing more to do.
    assert scheduler.recover_abandoned_tasks(now) == 0


def test_a_task_on_a_worker_that_still_beats_is_left_alone(typed, world):
    upload = committing(typed, world)
    now = timezone.now()
    WorkerHeartbeat.objects.create(worker_id="busy", started_at=now, seen_at=now)
    task = running_on("busy", 3600, upload, "commit")
    assert scheduler.recover_abandoned_tasks(now) == 0
    task.refresh_from_db()
    assert task.status == "RUNNING"
    assert Upload.objects.get(pk=upload.pk).status == Upload.COMMITTING


def test_a_task_of_a_worker_never_seen_is_recovered_only_after_the_timeout(typed, world):
    upload = committing(typed, world)
    running_on("unknown", 30, upload, "commit")
    assert scheduler.recover_abandoned_tasks() == 0
    DBTaskResult.objects.update(started_at=timezone.now() - timedelta(seconds=61))
    assert scheduler.recover_abandoned_tasks() == 1


def test_an_upload_that_died_while_being_checked_asks_for_the_file_again(typed, world):
    upload = services.receive(typed, csv_file(GOOD), "figures.csv", actor=world.editor)
    Upload.objects.filter(pk=upload.pk).update(
        status=Upload.QUEUED, headers=[], row_count=0, progress=20, restarts=1
    )
    running_on("gone", 120, upload, "check")
    scheduler.recover_abandoned_tasks()
    upload.refresh_from_db()
    assert upload.failure_message == (
        "The background worker stopped while checking this file (it was restarted or ran out "
        "of memory), so no records were stored. Upload the file again."
    )
    assert not upload.can_commit


def test_the_upload_page_notices_a_dead_worker_and_offers_to_commit_again(client, typed, world):
    upload = committing(typed, world)
    running_on("dead", 120, upload, "commit")
    client.force_login(world.editor)
    html = client.get(f"/manage/data-sets/{typed.pk}/uploads/{upload.pk}").content.decode()
    assert COMMIT_AGAIN in html
    assert "Commit 2 rows" in html
    response = client.post(f"/manage/data-sets/{typed.pk}/uploads/{upload.pk}/commit")
    assert response.status_code == 302
    assert Upload.objects.get(pk=upload.pk).status == Upload.COMMITTED


def test_a_scheduled_run_whose_worker_died_releases_its_lease_and_is_due_at_once(db):
    now = timezone.now()
    job = ScheduledJob.objects.create(
        name="freshness-check",
        kind=ScheduledJob.FRESHNESS,
        interval=60,
        next_run_at=now + timedelta(seconds=60),
        claim_token="c",
    )
    started = now - timedelta(seconds=120)
    assert scheduler.acquire_lease(job.pk, started, "c")
    from perfplat.collectors.tasks import run_job

    result = DBTaskResult.objects.get(pk=run_job.enqueue(job.pk, "c").id)
    result.claim("dead")
    DBTaskResult.objects.filter(pk=result.pk).update(started_at=started)
    assert scheduler.recover_abandoned_tasks(now) == 1
    job.refresh_from_db()
    assert (job.lease_token, job.lease_expires_at, job.next_run_at) == ("", None, now)
    assert job.last_error == "The worker running it stopped before it finished"


def test_a_worker_beats_and_workers_gone_for_a_day_are_forgotten(db):
    now = timezone.now()
    WorkerHeartbeat.objects.create(
        worker_id="old", started_at=now - timedelta(days=2), seen_at=now - timedelta(days=2)
    )
    scheduler.beat("w1", now - timedelta(seconds=10))
    scheduler.beat("w1", now)
    assert list(WorkerHeartbeat.objects.values_list("worker_id", "seen_at")) == [("w1", now)]


def test_the_worker_beats_several_times_within_the_timeout(settings):
    settings.PERFPLAT_WORKER_TIMEOUT_SECONDS = 60
    assert scheduler.SchedulerThread(interval=30, worker="w1").interval == 15
    assert scheduler.SchedulerThread(interval=5, worker="w1").interval == 5


# a real worker, killed


ROWS = 30_000
SETUP = """
import django, json
django.setup()
from perfplat.datasets.services import DataSetSettings, create_data_set
from perfplat.uploads import services
data_set, _ = create_data_set(
    "road-tax", "transactions-by-channel",
    settings=DataSetSettings(standard_type="transactions-by-channel"),
)
rows = ["Week starting,Period,Channel,Count"]
rows += [f"01/01/2024,week,channel-{i},{i}" for i in range(ROWS)]
upload = services.receive(
    data_set, "\\r\\n".join(rows).encode(), "big.csv", commit=True, background=True
)
print(json.dumps([upload.pk, upload.status]))
"""


def _python(tmp_path, env, code):
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def _row(database, sql, params=()):
    with sqlite3.connect(database, timeout=30) as connection:
        return connection.execute(sql, params).fetchone()


def test_a_worker_killed_while_committing_an_upload_stores_nothing_and_the_next_finishes(
    tmp_path,
):
    script = Path(sys.executable).parent / "perfplat"
    database = tmp_path / "perfplat.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "DJANGO_SETTINGS_MODULE": "perfplat.settings",
        "PERFPLAT_UPLOAD_BACKGROUND_BYTES": "1",
        "PERFPLAT_WORKER_TIMEOUT_SECONDS": "1",
    }
    migrated = subprocess.run(
        [str(script), "migrate", "-v", "0"], env=env, cwd=tmp_path, capture_output=True
    )
    assert migrated.returncode == 0, migrated.stderr
    upload_id, status = _python(tmp_path, env, SETUP.replace("ROWS", str(ROWS)))
    assert status == "queued"

    worker = subprocess.Popen(
        [str(script), "worker", "--quiet", "--interval", "0.1"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # Killed while its transaction stores the records (progress 60 until it commits).
        deadline = time.monotonic() + 90
        state = None
        while time.monotonic() < deadline and worker.poll() is None:
            state = _row(
                database, "SELECT status, progress FROM uploads_upload WHERE id = ?", (upload_id,)
            )
            if state == ("committing", 60):
                os.kill(worker.pid, signal.SIGKILL)
                break
            time.sleep(0.01)
    finally:
        worker.kill()
        worker.wait()
    assert state == ("committing", 60)
    # Left as it was: the task still "running", nothing stored.
    assert _row(database, "SELECT status FROM django_tasks_database_dbtaskresult") == ("RUNNING",)
    assert _row(database, "SELECT count(*) FROM datasets_record") == (0,)

    # Another worker notices once the dead one has missed its beats, and queues the work again
    # (a first stop is taken for a restart); the next worker's turn stores every record once.
    time.sleep(1.5)
    for _ in range(2):
        once = subprocess.run(
            [str(script), "worker", "--once", "--quiet"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
        )
        assert once.returncode == 0, once.stderr
    statuses = sqlite3.connect(database).execute(
        "SELECT status FROM django_tasks_database_dbtaskresult WHERE task_path = ? "
        "ORDER BY enqueued_at",
        ("perfplat.uploads.tasks.process_upload",),
    )
    assert [row[0] for row in statuses] == ["FAILED", "SUCCESSFUL"]
    assert _row(
        database, "SELECT status, restarts FROM uploads_upload WHERE id = ?", (upload_id,)
    ) == ("committed", 1)
    assert _row(database, "SELECT count(*) FROM datasets_record") == (ROWS,)
