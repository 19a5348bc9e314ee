"""Signing in through the pages, second factor included."""


def give_code(page, email: str) -> None:
    """After the password: the code the person's authenticator app shows, when asked for."""
    from perfplat.accounts import two_factor
    from perfplat.accounts.models import User
    from two_factor_helpers import next_code

    page.wait_for_load_state()
    if not page.url.endswith("/manage/sign-in/code"):
        return
    device = two_factor.authenticator(User.objects.get(email=email))
    page.get_by_label("Code", exact=True).fill(next_code(device))
    page.get_by_role("button", name="Continue").click()
