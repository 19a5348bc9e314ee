"""Response shapes of the notifications API."""

from datetime import datetime

from ninja import Schema


class NotificationOut(Schema):
    id: int
    # stale, resumed, collector-failing or digest
    kind: str
    # The addresses it went to, comma-separated.
    to: str
    subject: str
    body: str
    # pending, sending, sent or failed
    status: str
    created_at: datetime
    sent_at: datetime | None
    data_set_id: int | None
