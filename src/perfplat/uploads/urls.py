"""/manage/data-sets/<data_set_id>/uploads/...: included by perfplat.urls."""

from django.urls import path

from . import views

app_name = "uploads"

urlpatterns = [
    path("", views.upload_history, name="history"),
    path("new", views.new_upload, name="new"),
    path("<int:upload_id>", views.upload_detail, name="detail"),
    path("<int:upload_id>/commit", views.commit_upload, name="commit"),
]
