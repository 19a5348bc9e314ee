"""Two-factor sign-in pages (accounts.two_factor): the code asked for after the password,
setting up an authenticator app, recovery codes, and turning it off (editors only)."""

from django.contrib import messages
from django.shortcuts import redirect, render

from perfplat.accounts import two_factor
from perfplat.accounts.permissions import requires
from perfplat.errors import Forbidden, InvalidRequest

from .. import forms
from .auth import _same_site_path
from .common import MANAGE, _data, answers

SIGN_IN_HINT = (
    "The 6-digit code your authenticator app shows for the Performance Platform, or one of "
    "your recovery codes"
)
SET_UP_HINT = "The 6-digit code your authenticator app shows now"
OVERVIEW = ("Two-factor sign-in", "/manage/two-factor")


@answers("GET", "POST")
@requires("public")
def sign_in_code(request):
    """The second step of signing in, for people with an authenticator app."""
    if two_factor.pending_user(request) is None:
        return redirect("sign-in")
    form = forms.CodeForm(_data(request), hint=SIGN_IN_HINT)
    if form.is_bound and form.is_valid():
        try:
            next_path, recovery_code = two_factor.finish(request, form.cleaned_data["code"])
        except InvalidRequest as error:
            forms.add_domain_error(form, error)
        except Forbidden as error:
            messages.error(request, error.message)
            return redirect("sign-in")
        else:
            if recovery_code:
                left = two_factor.recovery_codes_left(request.user)
                messages.warning(
                    request,
                    f"You used a recovery code: it will not work again. You have {left} left. "
                    "Get new ones on the two-factor sign-in page.",
                )
            return redirect(_same_site_path(next_path) or "manage-home")
    return render(
        request,
        "manage/form.html",
        {
            "form": form,
            "title": "Enter your code",
            "intro": "Open your authenticator app. Lost your phone? Enter one of your "
            "recovery codes instead.",
            "button": "Continue",
            "cancel": "/manage/sign-in",
        },
    )


@answers("GET")
@requires("signed_in")
def overview(request):
    user = request.user
    return render(
        request,
        "manage/two_factor.html",
        {
            "enrolled": two_factor.enrolled(user),
            "required": two_factor.required_for(user),
            "codes_left": two_factor.recovery_codes_left(user),
            "breadcrumbs": [MANAGE],
        },
    )


@answers("GET", "POST")
@requires("signed_in")
def set_up(request):
    """A new secret for an authenticator app (as text, an otpauth:// link and a QR code),
    confirmed by a code from the app; then the recovery codes, shown once."""
    user = request.user
    device = two_factor.unconfirmed_authenticator(user) or two_factor.new_authenticator(user)
    form = forms.CodeForm(_data(request), hint=SET_UP_HINT)
    if form.is_bound and form.is_valid():
        try:
            codes = two_factor.confirm(user, device, form.cleaned_data["code"])
        except InvalidRequest as error:
            forms.add_domain_error(form, error)
        else:
            two_factor.verified(request)
            return _recovery_codes_page(request, codes, "Two-factor sign-in is on")
    uri = two_factor.otpauth_uri(device)
    return render(
        request,
        "manage/two_factor_set_up.html",
        {
            "form": form,
            "required": two_factor.required_for(user) and not two_factor.enrolled(user),
            "secret": two_factor.secret_text(device),
            "uri": uri,
            "qr_code": two_factor.qr_code_svg(uri),
            "breadcrumbs": [MANAGE, OVERVIEW],
        },
    )


@answers("POST")
@requires("signed_in")
def recovery_codes(request):
    if not two_factor.enrolled(request.user):
        return redirect("two-factor-set-up")
    codes = two_factor.new_recovery_codes(request.user)
    return _recovery_codes_page(request, codes, "Your new recovery codes")


def _recovery_codes_page(request, codes: list[str], title: str):
    response = render(
        request,
        "manage/two_factor_codes.html",
        {"codes": codes, "title": title, "breadcrumbs": [MANAGE, OVERVIEW]},
    )
    # Shown once: never kept by a browser's or proxy's cache.
    response["Cache-Control"] = "no-store"
    return response


@answers("POST")
@requires("signed_in")
def turn_off(request):
    two_factor.turn_off(request.user)
    messages.success(request, "Two-factor sign-in is off")
    return redirect("two-factor")
