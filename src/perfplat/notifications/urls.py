"""/manage/notifications: included by perfplat.urls before the other management pages."""

from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [path("", views.notifications, name="list")]
