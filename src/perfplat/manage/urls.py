"""The management area's pages, under /manage/ (included by perfplat.urls before its catch-all).

No namespace: Django's password views and accounts.services.password_link reverse
"password_reset_confirm" and its neighbours by their plain names.
"""

from django.urls import path

from .views import (
    audit,
    auth,
    data_set_fields,
    data_sets,
    home,
    organisations,
    services,
    tokens,
    two_factor,
    users,
)

urlpatterns = [
    path("", home.home, name="manage-home"),
    # signing in, out, and passwords
    path("sign-in", auth.sign_in, name="sign-in"),
    path("sign-out", auth.sign_out, name="sign-out"),
    # two-factor sign-in
    path("sign-in/code", two_factor.sign_in_code, name="sign-in-code"),
    path("two-factor", two_factor.overview, name="two-factor"),
    path("two-factor/set-up", two_factor.set_up, name="two-factor-set-up"),
    path(
        "two-factor/recovery-codes",
        two_factor.recovery_codes,
        name="two-factor-recovery-codes",
    ),
    path("two-factor/turn-off", two_factor.turn_off, name="two-factor-turn-off"),
    path("password", auth.password_change, name="password-change"),
    path("password/done", auth.password_change_done, name="password-change-done"),
    path("password-reset", auth.password_reset, name="password_reset"),
    path("password-reset/sent", auth.password_reset_done, name="password_reset_done"),
    path(
        "reset/<uidb64>/<token>/",
        auth.password_reset_confirm,
        name="password_reset_confirm",
    ),
    path("reset/done", auth.password_reset_complete, name="password_reset_complete"),
    # organisations ("new" first: it is not an organisation)
    path("organisations", organisations.organisations, name="organisations"),
    path("organisations/new", organisations.organisation_new, name="organisation-new"),
    path("organisations/<organisation>", organisations.organisation, name="organisation"),
    path(
        "organisations/<organisation>/edit",
        organisations.organisation_edit,
        name="organisation-edit",
    ),
    # services and their data sets
    path("services/new", services.service_new, name="service-new"),
    path("services/<service>", services.service, name="service"),
    path("services/<service>/edit", services.service_edit, name="service-edit"),
    path("services/<service>/data-sets/new", data_sets.data_set_new, name="data-set-new"),
    path("data-sets/<int:data_set_id>", data_sets.data_set, name="manage-data-set"),
    path("data-sets/<int:data_set_id>/edit", data_sets.data_set_edit, name="data-set-edit"),
    path(
        "data-sets/<int:data_set_id>/rotate-token",
        data_sets.data_set_rotate_token,
        name="data-set-rotate-token",
    ),
    path("data-sets/<int:data_set_id>/empty", data_sets.data_set_empty, name="data-set-empty"),
    path(
        "data-sets/<int:data_set_id>/fields",
        data_set_fields.data_set_fields,
        name="data-set-fields",
    ),
    path(
        "data-sets/<int:data_set_id>/fields/convert",
        data_set_fields.data_set_convert,
        name="data-set-convert",
    ),
    # people, personal API tokens, the audit log
    path("users", users.users, name="users"),
    path("users/new", users.user_new, name="user-new"),
    path("users/<int:user_id>/edit", users.user_edit, name="user-edit"),
    path("tokens", tokens.tokens, name="tokens"),
    path("tokens/<int:token_id>/revoke", tokens.token_revoke, name="token-revoke"),
    path("audit", audit.audit, name="audit"),
]
