"""Two-factor sign-in (django-otp): an authenticator app's time-based codes (TOTP, RFC 6238)
and single-use recovery codes.

Required of platform and organisation admins (PERFPLAT_TWO_FACTOR_REQUIRED, on by default);
offered to editors. Signing in: the password first (django-axes counts failures), then, for a
person with an authenticator, a code on a second page before the session is signed in at all
(`start`, `finish`). An admin without one is signed in but can only set one up
(`TwoFactorMiddleware`) until they have. Codes are checked by django-otp, whose devices slow
down repeated wrong codes; a recovery code works once.
"""

import base64
import math
import time

import django_otp
from django.conf import settings
from django.contrib.auth import login, logout
from django.db import transaction
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from perfplat.audit.services import record
from perfplat.errors import Forbidden, InvalidRequest, json_response

from .models import User

REQUIRED_ROLES = (User.PLATFORM_ADMIN, User.ORG_ADMIN)
RECOVERY_CODES = 10
AUTHENTICATOR = "Authenticator app"
RECOVERY = "Recovery codes"
# The password step is good for this long, and for this many wrong codes.
PENDING_SECONDS = 10 * 60
MAX_CODE_ATTEMPTS = 5
_PENDING = "perfplat_two_factor"


def required_for(user) -> bool:
    return bool(settings.PERFPLAT_TWO_FACTOR_REQUIRED) and user.role in REQUIRED_ROLES


def authenticator(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def enrolled(user) -> bool:
    return authenticator(user) is not None


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


# setting up


def new_authenticator(user) -> TOTPDevice:
    """A new secret for the person's authenticator app, not in use until confirmed with a code
    from it (`confirm`). Replaces any secret set up earlier but never confirmed."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name=AUTHENTICATOR, confirmed=False)


def unconfirmed_authenticator(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=False).first()


def secret_text(device: TOTPDevice) -> str:
    """The secret as people type it into an app: base32, in groups of four."""
    text = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def otpauth_uri(device: TOTPDevice) -> str:
    """The otpauth:// address an authenticator app reads (as a QR code, or a link on a
    phone), naming the platform (settings.OTP_TOTP_ISSUER) and the account."""
    return device.config_url


def qr_code_svg(uri: str) -> str:
    """The address as an SVG QR code, drawn on the server (segno)."""
    import segno

    return segno.make(uri, error="m").svg_inline(scale=4, dark="#0b0c0c", light="#ffffff")


def _clean(code) -> str:
    return "".join(str(code or "").split()).replace("-", "").lower()[:20]


def _check_not_waiting(device) -> None:
    """django-otp makes a device wait after wrong codes (1 s, 2 s, 4 s, ... up to an hour):
    say so rather than call a right code wrong."""
    if device is None:
        return
    allowed, data = device.verify_is_allowed()
    if allowed:
        return
    seconds = max(1, math.ceil((data["locked_until"] - timezone.now()).total_seconds()))
    raise InvalidRequest(
        f"Too many wrong codes: wait {seconds} second{'s' if seconds != 1 else ''}, then enter "
        "the code your app shows",
        field="code",
    )


def confirm(user, device: TOTPDevice, code) -> list[str]:
    """Start using the authenticator when `code` is right: it replaces any earlier one, and
    the person gets new recovery codes (returned: shown once)."""
    _check_not_waiting(device)
    if not device.verify_token(_clean(code)):
        raise InvalidRequest(
            "The code is not right: enter the 6-digit code your app shows now", field="code"
        )
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _new_recovery_codes(user)
        record(user, "user.two_factor_on", user, None, None, organisation=user.organisation)
    return codes


def new_recovery_codes(user) -> list[str]:
    """New recovery codes for a person with an authenticator (the old ones stop working)."""
    if not enrolled(user):
        raise InvalidRequest("Set up two-factor sign-in first")
    with transaction.atomic():
        codes = _new_recovery_codes(user)
        record(user, "user.recovery_codes", user, None, None, organisation=user.organisation)
    return codes


def _new_recovery_codes(user) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def turn_off(user) -> None:
    """Stop asking the person for codes: only for those not required to use them."""
    if required_for(user):
        raise Forbidden("Platform and organisation admins must use two-factor sign-in")
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        record(user, "user.two_factor_off", user, None, None, organisation=user.organisation)


# signing in


def start(request, user, next_path: str | None) -> None:
    """The password was right for a person with an authenticator: remember them (not yet
    signed in) for the code page."""
    request.session[_PENDING] = {
        "user": user.pk,
        "backend": user.backend,
        "next": next_path or "",
        "since": time.time(),
        "attempts": 0,
    }


def pending_user(request) -> User | None:
    """Who gave their password and now owes a code, if that was recently."""
    pending = request.session.get(_PENDING)
    if not pending or time.time() - pending["since"] > PENDING_SECONDS:
        return None
    return User.objects.filter(pk=pending["user"], is_active=True).first()


def finish(request, code) -> tuple[str, bool]:
    """Check the code of the pending sign-in; sign the person in when it is right. Returns
    where to go next and whether a recovery code was used; raises InvalidRequest for a wrong
    code (and forgets the password step after MAX_CODE_ATTEMPTS of them)."""
    user = pending_user(request)
    pending = request.session.get(_PENDING) or {}
    if user is None:
        request.session.pop(_PENDING, None)
        raise Forbidden("Sign in again: it has been too long since you entered your password")
    _check_not_waiting(authenticator(user))
    device = django_otp.match_token(user, _clean(code)) if _clean(code) else None
    if device is None:
        pending["attempts"] = pending.get("attempts", 0) + 1
        if pending["attempts"] >= MAX_CODE_ATTEMPTS:
            request.session.pop(_PENDING, None)
            raise Forbidden("Too many wrong codes: sign in again")
        request.session[_PENDING] = pending
        raise InvalidRequest(
            "The code is not right: enter the code your authenticator app shows now, or one "
            "of your recovery codes",
            field="code",
        )
    request.session.pop(_PENDING, None)
    login(request, user, backend=pending["backend"])
    django_otp.login(request, device)
    return pending.get("next") or reverse("manage-home"), isinstance(device, StaticDevice)


def verified(request) -> None:
    """The person has just proved a device in this session (setting one up)."""
    device = authenticator(request.user)
    if device is not None:
        django_otp.login(request, device)


# every request

# Where an admin who has yet to set up two-factor sign-in may go.
_SETTING_UP = ("/manage/two-factor", "/manage/sign-out", "/manage/sign-in", "/static/")
_GUARDED = ("/manage/", "/api/", "/data/")


class TwoFactorMiddleware:
    """Keeps a signed-in admin without two-factor sign-in to setting it up; signs out a session
    of a person with an authenticator that never proved it (one from before they set it up).
    Requests made with a personal API token are not sessions and are not concerned."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and request.path.startswith(_GUARDED)
            and not request.path.startswith(_SETTING_UP)
            and not user.is_verified()
        ):
            if enrolled(user):
                logout(request)
                return self._answer(request, "sign-in", "Sign in again with your code")
            if required_for(user):
                return self._answer(
                    request,
                    "two-factor-set-up",
                    "Platform and organisation admins must use two-factor sign-in: set it up "
                    "at /manage/two-factor/set-up",
                )
        return self.get_response(request)

    @staticmethod
    def _answer(request, page: str, message: str):
        if request.path.startswith(("/api/", "/data/")):
            return json_response({"status": "error", "message": message}, status=403)
        return redirect(f"{reverse(page)}?next={request.path}" if page == "sign-in" else page)
