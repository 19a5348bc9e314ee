"""Personal API tokens: your tokens (issuing one shows it once) and revoking one."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache

from perfplat.accounts import services as accounts
from perfplat.accounts.models import PersonalToken
from perfplat.accounts.permissions import requires

from .. import forms
from .common import MANAGE, _data, _submit, answers


@answers("GET", "POST")
@requires("signed_in")
@never_cache
def tokens(request):
    user = request.user
    form = forms.TokenForm(_data(request))
    issued = _submit(form, lambda data: accounts.issue_personal_token(user, user, data["name"]))
    if issued:
        # Shown in this response only, as a data set's token is.
        form = forms.TokenForm()
    return render(
        request,
        "manage/tokens.html",
        {
            "form": form,
            "tokens": user.tokens.all(),
            "issued": issued,
            "api_url": request.build_absolute_uri("/api/me"),
            "breadcrumbs": [MANAGE],
        },
    )


@answers("POST")
@requires("signed_in")
def token_revoke(request, token_id):
    row = get_object_or_404(PersonalToken.objects.select_related("user__organisation"), pk=token_id)
    # Revoking another person's token needs the right to manage them: the service checks.
    accounts.revoke_personal_token(request.user, row)
    messages.success(request, f"Token {row.prefix}… revoked: it no longer works")
    return redirect("tokens")
