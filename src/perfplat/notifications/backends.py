"""An email backend that sends through GOV.UK Notify (notifications-python-client).

Choose it with EMAIL_BACKEND=perfplat.notifications.backends.NotifyEmailBackend, and set
NOTIFY_API_KEY and NOTIFY_TEMPLATE_ID: the template's subject is `((subject))` and its body
`((body))`, so one template carries every message the platform sends. NOTIFY_BASE_URL changes
the API's address (for Notify's test environments, or the tests' local stand-in).
"""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail.backends.base import BaseEmailBackend


class NotifyEmailBackend(BaseEmailBackend):
    def __init__(
        self, fail_silently=False, api_key=None, template_id=None, base_url=None, **kwargs
    ):
        super().__init__(fail_silently=fail_silently, **kwargs)
        self.api_key = api_key or settings.NOTIFY_API_KEY
        self.template_id = template_id or settings.NOTIFY_TEMPLATE_ID
        self.base_url = base_url or settings.NOTIFY_BASE_URL
        if not self.api_key or not self.template_id:
            raise ImproperlyConfigured(
                "The GOV.UK Notify email backend needs NOTIFY_API_KEY and NOTIFY_TEMPLATE_ID"
            )
        self.client = None

    def open(self):
        if self.client is None:
            from notifications_python_client.notifications import NotificationsAPIClient

            self.client = NotificationsAPIClient(self.api_key, base_url=self.base_url)
            return True
        return False

    def close(self):
        self.client = None

    def send_messages(self, email_messages):
        if not email_messages:
            return 0
        self.open()
        sent = 0
        for message in email_messages:
            try:
                for recipient in message.recipients():
                    self.client.send_email_notification(
                        email_address=recipient,
                        template_id=self.template_id,
                        personalisation={"subject": message.subject, "body": message.body},
                    )
            except Exception:
                if not self.fail_silently:
                    raise
                continue
            sent += 1
        return sent


class UnsentEmailBackend(BaseEmailBackend):
    """The default outside development when no email server is set (EMAIL_HOST or
    EMAIL_BACKEND): says in the log that an email could not be sent, to whom and about what,
    but never its body, which may hold a password link. Sending counts as failed, so
    notifications are retried and then marked "could not be sent"."""

    def send_messages(self, email_messages):
        import logging

        for message in email_messages or ():
            logging.getLogger(__name__).warning(
                "Email %r to %s not sent: no email server is set (EMAIL_HOST or EMAIL_BACKEND)",
                message.subject,
                ", ".join(message.recipients()),
            )
        if email_messages and not self.fail_silently:
            raise ImproperlyConfigured(
                "No email server is set: set EMAIL_HOST (SMTP) or EMAIL_BACKEND"
            )
        return 0
