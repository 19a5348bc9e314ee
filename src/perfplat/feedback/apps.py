from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "perfplat.feedback"
    label = "feedback"
    verbose_name = "Feedback from the public"
