from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "perfplat.notifications"
    label = "notifications"
    verbose_name = "Freshness and notifications"
