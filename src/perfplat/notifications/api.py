"""/api/notifications: the emails the platform has sent to the caller."""

from ninja import Router

from perfplat.accounts.permissions import requires

from . import services
from .schemas import NotificationOut

router = Router(tags=["notifications"])


@router.get("/notifications", response=list[NotificationOut])
@requires("signed_in")
def list_notifications(request):
    """The emails sent to you, newest first (the latest 100)."""
    return list(services.messages_for(request.user)[:100])
