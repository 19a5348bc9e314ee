"""Two-factor sign-in in tests: enrolling a person and the code their app would show now."""

from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from perfplat.accounts import two_factor


def enrol(user) -> tuple[TOTPDevice, list[str]]:
    """Set up an authenticator for the person, as the set-up page does; returns it and the
    recovery codes."""
    device = two_factor.new_authenticator(user)
    codes = two_factor.confirm(user, device, code_now(device))
    device.refresh_from_db()
    return device, codes


def code_now(device: TOTPDevice, steps_ahead: int = 0) -> str:
    """The code the person's app shows now (or `steps_ahead` periods of 30 s later)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time += steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def next_code(device: TOTPDevice) -> str:
    """A code the device has not accepted yet: a device takes each period's code once, so a
    second sign-in within 30 seconds uses the next period's (within the allowed drift)."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return code_now(device, 1 if device.last_t >= totp.t() else 0)
