"""Two-factor sign-in (issue 13): TOTP from an authenticator app, recovery codes, required of
platform and organisation admins and offered to editors (perfplat.accounts.two_factor)."""

import re
import time

import pytest
from django.test import Client

from helpers import body
from perfplat.accounts import two_factor
from perfplat.audit.models import AuditEntry
from registry_fixtures import PASSWORD
from two_factor_helpers import code_now, enrol, next_code

ADMIN = "dft-admin@example.gov.uk"
EDITOR = "dft-editor@example.gov.uk"


@pytest.fixture(autouse=True)
def required(settings):
    settings.PERFPLAT_TWO_FACTOR_REQUIRED = True
    # django-otp makes a device wait after a wrong code (1 s, 2 s, 4 s, ...); the tests that
    # are not about that do not wait.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


def password_step(client, email, next_path=""):
    url = "/manage/sign-in" + (f"?next={next_path}" if next_path else "")
    return client.post(url, {"username": email, "password": PASSWORD})


def signed_in_user(client):
    return client.session.get("_auth_user_id")


def errors(response) -> list[str]:
    return re.findall(r'<a href="#[^"]*">([^<]+)</a>', response.content.decode())


# signing in


def test_without_two_factor_sign_in_the_password_signs_an_editor_in(client, world):
    response = password_step(client, EDITOR)
    assert response["Location"] == "/manage/"
    assert signed_in_user(client) == str(world.editor.pk)


def test_with_an_authenticator_the_password_alone_does_not_sign_in(client, world):
    device, _ = enrol(world.editor)
    response = password_step(client, EDITOR, "/manage/tokens")
    assert response["Location"] == "/manage/sign-in/code"
    assert signed_in_user(client) is None
    assert client.get("/manage/tokens")["Location"].startswith("/manage/sign-in")

    page = client.get("/manage/sign-in/code").content.decode()
    assert "<title>Enter your code - Performance Platform</title>" in page
    assert 'autocomplete="one-time-code"' in page

    wrong = client.post("/manage/sign-in/code", {"code": "000000"})
    assert errors(wrong) == [
        "The code is not right: enter the code your authenticator app shows now, or one of "
        "your recovery codes"
    ]
    assert signed_in_user(client) is None

    right = client.post("/manage/sign-in/code", {"code": next_code(device)})
    assert right["Location"] == "/manage/tokens"
    assert signed_in_user(client) == str(world.editor.pk)
    assert client.get("/manage/tokens").status_code == 200


def test_a_code_works_once(client, world):
    device, _ = enrol(world.editor)
    code = next_code(device)
    password_step(client, EDITOR)
    assert client.post("/manage/sign-in/code", {"code": code}).status_code == 302

    other = Client()
    password_step(other, EDITOR)
    again = other.post("/manage/sign-in/code", {"code": code})
    assert again.status_code == 200
    assert signed_in_user(other) is None


def test_a_recovery_code_signs_in_once(client, world):
    _, codes = enrol(world.editor)
    assert len(codes) == 10 and len(set(codes)) == 10

    password_step(client, EDITOR)
    response = client.post("/manage/sign-in/code", {"code": codes[3].upper()}, follow=True)
    assert signed_in_user(client) == str(world.editor.pk)
    assert (
        "You used a recovery code: it will not work again. You have 9 left. Get new ones on "
        "the two-factor sign-in page." in response.content.decode()
    )

    other = Client()
    password_step(other, EDITOR)
    other.post("/manage/sign-in/code", {"code": codes[3]})
    assert signed_in_user(other) is None
    assert two_factor.recovery_codes_left(world.editor) == 9


def test_too_many_wrong_codes_send_the_person_back_to_the_password(client, world):
    enrol(world.editor)
    password_step(client, EDITOR)
    for _ in range(4):
        assert client.post("/manage/sign-in/code", {"code": "111111"}).status_code == 200
    fifth = client.post("/manage/sign-in/code", {"code": "111111"}, follow=True)
    assert fifth.redirect_chain[-1][0] == "/manage/sign-in"
    assert "Too many wrong codes: sign in again" in fifth.content.decode()
    assert client.get("/manage/sign-in/code")["Location"] == "/manage/sign-in"


def test_the_password_step_expires(client, world, monkeypatch):
    device, _ = enrol(world.editor)
    password_step(client, EDITOR)
    later = time.time() + two_factor.PENDING_SECONDS + 1
    monkeypatch.setattr(two_factor.time, "time", lambda: later)
    assert client.get("/manage/sign-in/code")["Location"] == "/manage/sign-in"


def test_wrong_codes_slow_the_device_down(client, world, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 1
    device, _ = enrol(world.editor)
    password_step(client, EDITOR)
    client.post("/manage/sign-in/code", {"code": "000000"})
    # Right, but straight after a wrong one: refused until the device's wait is over.
    response = client.post("/manage/sign-in/code", {"code": next_code(device)})
    assert errors(response) == [
        "Too many wrong codes: wait 1 second, then enter the code your app shows"
    ]
    assert signed_in_user(client) is None


def test_the_code_page_without_a_password_step_leads_to_sign_in(client, db):
    assert client.get("/manage/sign-in/code")["Location"] == "/manage/sign-in"


# admins must use it


def test_an_admin_without_it_signs_in_and_must_set_it_up_first(client, world):
    assert password_step(client, ADMIN)["Location"] == "/manage/"
    assert client.get("/manage/")["Location"] == "/manage/two-factor/set-up"
    assert client.get("/manage/services/road-tax")["Location"] == "/manage/two-factor/set-up"
    refused = client.get("/api/services")
    assert refused.status_code == 403
    assert body(refused)["message"] == (
        "Platform and organisation admins must use two-factor sign-in: set it up at "
        "/manage/two-factor/set-up"
    )
    page = client.get("/manage/two-factor/set-up").content.decode()
    assert "Platform and organisation admins must use two-factor sign-in" in page
    assert "<svg" in page
    device = two_factor.unconfirmed_authenticator(world.org_admin)
    secret = two_factor.secret_text(device)
    assert re.fullmatch(r"[A-Z2-7]{4}( [A-Z2-7]{1,4})+", secret)
    assert secret in page
    assert "otpauth://totp/Performance%20Platform%3Adft-admin%40example.gov.uk?secret=" in page

    wrong = client.post("/manage/two-factor/set-up", {"code": "123456"})
    assert errors(wrong) == ["The code is not right: enter the 6-digit code your app shows now"]

    done = client.post("/manage/two-factor/set-up", {"code": code_now(device)})
    codes = re.findall(r"<li><code>([a-z2-7]+)</code></li>", done.content.decode())
    assert len(codes) == 10
    assert done["Cache-Control"] == "no-store"
    assert client.get("/manage/").status_code == 200
    assert client.get("/api/services").status_code == 200
    assert AuditEntry.objects.filter(action="user.two_factor_on").count() == 1


def test_an_admins_personal_token_still_works(client, world):
    token = world.token(world.org_admin)
    response = client.get("/api/services", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200


def test_an_admin_cannot_turn_it_off_and_an_editor_can(client, world):
    enrol(world.org_admin)
    admin = Client()
    admin.force_login(world.org_admin)
    two_factor_session(admin)
    assert admin.post("/manage/two-factor/turn-off").status_code == 403
    assert two_factor.enrolled(world.org_admin)

    enrol(world.editor)
    editor = Client()
    editor.force_login(world.editor)
    two_factor_session(editor)
    assert editor.post("/manage/two-factor/turn-off")["Location"] == "/manage/two-factor"
    assert not two_factor.enrolled(world.editor)


def two_factor_session(client):
    """Mark a force_login session as having proved the person's authenticator."""
    from django_otp import DEVICE_ID_SESSION_KEY

    user_id = client.session["_auth_user_id"]
    from perfplat.accounts.models import User

    device = two_factor.authenticator(User.objects.get(pk=user_id))
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def test_a_session_that_never_gave_a_code_is_signed_out_once_there_is_an_authenticator(
    client, world
):
    client.force_login(world.editor)
    enrol(world.editor)
    response = client.get("/manage/tokens")
    assert response["Location"] == "/manage/sign-in?next=/manage/tokens"
    assert signed_in_user(client) is None


def test_new_recovery_codes_replace_the_old_ones(client, world):
    _, old = enrol(world.editor)
    client.force_login(world.editor)
    two_factor_session(client)
    page = client.post("/manage/two-factor/recovery-codes").content.decode()
    new = re.findall(r"<li><code>([a-z2-7]+)</code></li>", page)
    assert len(new) == 10 and not set(new) & set(old)
    assert two_factor.recovery_codes_left(world.editor) == 10
    overview = client.get("/manage/two-factor").content.decode()
    assert "Recovery codes left" in overview


def test_editors_are_offered_it(client, world):
    client.force_login(world.editor)
    assert 'href="/manage/two-factor"' in client.get("/manage/").content.decode()
    page = client.get("/manage/two-factor").content.decode()
    assert "Set up two-factor sign-in" in page
    assert "must use it" not in page
