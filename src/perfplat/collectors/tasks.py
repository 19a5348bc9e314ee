"""The background task the scheduler enqueues for each claimed job (run by `perfplat worker`)."""

from django_tasks import task


@task()
def run_job(job_id: int, claim_token: str) -> str:
    """Run a scheduled job under its lease; returns how it went (see scheduler.execute)."""
    from .scheduler import execute

    return execute(job_id, claim_token)
