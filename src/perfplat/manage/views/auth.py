"""Signing in and out, and passwords (changing one, and resetting a forgotten one by email);
with the pages django-axes and Django's CSRF check show in place of a refused sign-in or form."""

from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme

from perfplat.accounts import throttle, two_factor
from perfplat.accounts.permissions import requires
from perfplat.errors import error_response

from .. import forms
from .common import _data, answers

# signing in and out


def _same_site_path(value: str | None) -> str | None:
    """`next` only ever leads to a path of this site, never to another site."""
    if value and value.startswith("/") and url_has_allowed_host_and_scheme(value, None):
        return value
    return None


@answers("GET", "POST")
@requires("public")
def sign_in(request):
    next_path = _same_site_path(request.GET.get("next"))
    if request.method == "GET" and request.user.is_authenticated:
        return redirect(next_path or "manage-home")
    form = forms.SignInForm(request, data=_data(request))
    if form.is_bound and form.is_valid():
        user = form.get_user()
        if two_factor.enrolled(user):
            # Not signed in yet: the code comes first.
            two_factor.start(request, user, next_path)
            return redirect("sign-in-code")
        login(request, user)
        return redirect(next_path or "manage-home")
    status = 429 if form.is_bound and form.locked_out else 200
    return render(request, "manage/sign_in.html", {"form": form}, status=status)


def locked_out(request, original_response=None, credentials=None):
    """django-axes's answer to a locked-out sign-in (settings.AXES_LOCKOUT_CALLABLE). The
    sign-in page has already said so, with status 429; a sign-in made another way gets a page
    that says so."""
    if original_response is not None and original_response.status_code == 429:
        return original_response
    return render(
        request,
        "manage/message.html",
        {
            "title": "Your account is locked",
            "paragraphs": [forms.lockout_message(request)],
            "links": [("Reset your password", reverse("password_reset"))],
        },
        status=429,
    )


def csrf_failure(request, reason=""):
    """settings.CSRF_FAILURE_VIEW: a form sent without its CSRF token (an old page, or cookies
    turned off) gets a GOV.UK page that says what to do; programs get JSON."""
    from perfplat.errors import Forbidden
    from perfplat.frontend.views import wants_json

    message = "This form has expired. Go back, reload the page and try again."
    if wants_json(request):
        return error_response(Forbidden(message))
    return render(
        request,
        "manage/message.html",
        {
            "title": "This form has expired",
            "paragraphs": [
                "For your security, forms stop working after a while, and they need cookies.",
                "Go back, reload the page and try again.",
            ],
        },
        status=403,
    )


@answers("POST")
@requires("public")
def sign_out(request):
    logout(request)
    return redirect("home")


# passwords: Django's views with GOV.UK templates


def _auth_page(rule, methods, view):
    return answers(*methods)(requires(rule)(view))


password_change = _auth_page(
    "signed_in",
    ("GET", "POST"),
    auth_views.PasswordChangeView.as_view(
        form_class=forms.PasswordChangeForm,
        template_name="manage/form.html",
        success_url=reverse_lazy("password-change-done"),
        extra_context={"title": "Change your password", "button": "Change password"},
    ),
)
password_change_done = _auth_page(
    "signed_in",
    ("GET",),
    auth_views.PasswordChangeDoneView.as_view(
        template_name="manage/message.html",
        extra_context={
            "title": "Your password has been changed",
            "paragraphs": ["Use your new password the next time you sign in."],
            "links": [("Go to your services", reverse_lazy("manage-home"))],
        },
    ),
)


class ThrottledPasswordResetView(auth_views.PasswordResetView):
    """Sends at most a few reset emails an hour to one address, and accepts at most a few
    dozen requests an hour from one IP address (accounts.throttle): a reset link is a way in,
    and an inbox is not to be flooded. Refused or not, nothing says whether the address has
    an account."""

    def form_valid(self, form):
        email = form.cleaned_data["email"].strip().lower()
        address = self.request.META.get("REMOTE_ADDR", "")
        per_email = throttle.count("password-reset-email", email, throttle.RESET_PER_EMAIL[1])
        per_address = throttle.count(
            "password-reset-address", address, throttle.RESET_PER_ADDRESS[1]
        )
        if per_email > throttle.RESET_PER_EMAIL[0] or per_address > throttle.RESET_PER_ADDRESS[0]:
            form.add_error(None, "Too many password reset requests. Try again in an hour.")
            response = self.form_invalid(form)
            response.status_code = 429
            return response
        return super().form_valid(form)


password_reset = _auth_page(
    "public",
    ("GET", "POST"),
    ThrottledPasswordResetView.as_view(
        form_class=forms.PasswordResetForm,
        template_name="manage/form.html",
        email_template_name="manage/email/password_reset.txt",
        subject_template_name="manage/email/password_reset_subject.txt",
        success_url=reverse_lazy("password_reset_done"),
        extra_context={
            "title": "Reset your password",
            "intro": "We will email you a link to choose a new password.",
            "button": "Send the link",
        },
    ),
)
password_reset_done = _auth_page(
    "public",
    ("GET",),
    auth_views.PasswordResetDoneView.as_view(
        template_name="manage/message.html",
        extra_context={
            "title": "Check your email",
            "paragraphs": [
                "If the address you gave has an account, we have sent it a link to choose a "
                "new password. The link works once, for 3 days.",
                "If no email arrives within a few minutes, check your spam folder, or ask an "
                "admin of your organisation.",
            ],
        },
    ),
)
password_reset_confirm = _auth_page(
    "public",
    ("GET", "POST"),
    auth_views.PasswordResetConfirmView.as_view(
        form_class=forms.NewPasswordForm,
        template_name="manage/password_reset_confirm.html",
        success_url=reverse_lazy("password_reset_complete"),
        extra_context={"title": "Choose your password", "button": "Save password"},
    ),
)
password_reset_complete = _auth_page(
    "public",
    ("GET",),
    auth_views.PasswordResetCompleteView.as_view(
        template_name="manage/message.html",
        extra_context={
            "title": "Your password is set",
            "paragraphs": ["You can now sign in with your email address and new password."],
            "links": [("Sign in", reverse_lazy("sign-in"))],
        },
    ),
)
