"""The management area's pages, under /manage/ (included by perfplat.urls before its catch-all).

No namespace: Django's password views and accounts.services.password_link reverse
"password_reset_confirm" and its neighbours by their plain names.
"""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="manage-home"),
    # signing in, out, and passwords
    path("sign-in", views.sign_in, name="sign-in"),
    path("sign-out", views.sign_out, name="sign-out"),
    path("password", views.password_change, name="password-change"),
    path("password/done", views.password_change_done, name="password-change-done"),
    path("password-reset", views.password_reset, name="password_reset"),
    path("password-reset/sent", views.password_reset_done, name="password_reset_done"),
    path(
        "reset/<uidb64>/<token>/",
        views.password_reset_confirm,
        name="password_reset_confirm",
    ),
    path("reset/done", views.password_reset_complete, name="password_reset_complete"),
    # organisations ("new" first: it is not an organisation)
    path("organisations", views.organisations, name="organisations"),
    path("organisations/new", views.organisation_new, name="organisation-new"),
    path("organisations/<organisation>", views.organisation, name="organisation"),
    path("organisations/<organisation>/edit", views.organisation_edit, name="organisation-edit"),
    # services and their data sets
    path("services/new", views.service_new, name="service-new"),
    path("services/<service>", views.service, name="service"),
    path("services/<service>/edit", views.service_edit, name="service-edit"),
    path("services/<service>/data-sets/new", views.data_set_new, name="data-set-new"),
    path("data-sets/<int:data_set_id>", views.data_set, name="manage-data-set"),
    path("data-sets/<int:data_set_id>/edit", views.data_set_edit, name="data-set-edit"),
    path(
        "data-sets/<int:data_set_id>/rotate-token",
        views.data_set_rotate_token,
        name="data-set-rotate-token",
    ),
    path("data-sets/<int:data_set_id>/empty", views.data_set_empty, name="data-set-empty"),
    # people, personal API tokens, the audit log
    path("users", views.users, name="users"),
    path("users/new", views.user_new, name="user-new"),
    path("users/<int:user_id>/edit", views.user_edit, name="user-edit"),
    path("tokens", views.tokens, name="tokens"),
    path("tokens/<int:token_id>/revoke", views.token_revoke, name="token-revoke"),
    path("audit", views.audit, name="audit"),
]
