"""The background task that checks and commits large uploads (run by `perfplat worker`)."""

import logging

from django_tasks import task

from perfplat.errors import PerfplatError

logger = logging.getLogger(__name__)


@task()
def process_upload(upload_id: int, step: str) -> str:
    """Check an upload ("check", then commit it if that was asked), or commit it ("commit").
    Returns the upload's status. Its progress and outcome are saved on the upload, which is
    what its page shows."""
    from . import services
    from .models import Upload

    upload = Upload.objects.select_related("data_set__service", "user").filter(pk=upload_id).first()
    if upload is None:
        # Deleted with its data set while it waited.
        return "gone"
    try:
        if step == "commit":
            services.commit_now(upload)
        else:
            services.check_upload(upload)
    except PerfplatError as error:
        # Saved on the upload (invalid, with its message): the person sees it on its page.
        logger.info("Upload %s: %s", upload_id, error.message)
    return upload.status
