"""One sign-in for the three admins (ADR 23), in a browser-like client against the real
services on one host (each admin on its own port, as in the embedded run: cookies are per
host, not per port, so this is also the one-origin case for cookie names)."""

from __future__ import annotations

import time
from typing import Any

import requests

from clipcart_shared.merchant_access.demo_logins import demo_id
from tests.e2e.conftest import CONSOLE_RECHECK_SECONDS, RunningStack

ALPINE = str(demo_id("merchant", "alpine"))
HARBOR = str(demo_id("merchant", "harbor"))


def _sign_in(
    stack: RunningStack,
    username: str,
    password: str,
    *,
    next_url: str = "",
    at: str = "catalog",
    browser: requests.Session | None = None,
) -> tuple[requests.Session, requests.Response]:
    """Sign in on the login page of the admin `at`, as a browser does (any of the three:
    video's and checkout's forward the password to catalog)."""
    browser = browser or requests.Session()
    login = f"{stack.admin_bases()[at]}/login/"
    browser.get(login, timeout=30).raise_for_status()
    answer = browser.post(
        login,
        data={
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": browser.cookies[f"{at}_csrftoken"],
            "next": next_url or f"/{at}/admin/",
        },
        headers={"Referer": login},
        timeout=30,
    )
    return browser, answer


def _signed_in(browser: requests.Session, base: str) -> bool:
    page = browser.get(f"{base}/", timeout=30, allow_redirects=False)
    return page.status_code == 200


def _tag_of(stack: RunningStack, merchant_id: str) -> str:
    rows = stack.query(
        "video", "SELECT id FROM videos_producttag WHERE merchant_id = %s LIMIT 1", merchant_id
    )
    return str(rows[0][0])


def _post_logout(browser: requests.Session, base: str, service: str) -> requests.Response:
    return browser.post(
        f"{base}/logout/",
        data={"csrfmiddlewaretoken": browser.cookies[f"{service}_csrftoken"]},
        headers={"Referer": f"{base}/"},
        timeout=30,
        allow_redirects=False,
    )


def test_signed_in_once_a_merchants_staff_open_all_three_admins_and_see_only_their_rows(stack):
    bases = stack.admin_bases()
    browser, answer = _sign_in(stack, "alpine", "alpine-demo", next_url=f"{bases['video']}/")

    # Catalog sent the browser on to the video admin it came from (same host, other port).
    assert answer.url == f"{bases['video']}/" and answer.status_code == 200
    assert all(_signed_in(browser, base) for base in bases.values())
    # Each admin keeps its own session and CSRF cookie, beside the one shared sign-in.
    names = {cookie.name for cookie in browser.cookies}
    assert {"clipcart_console", "catalog_sessionid", "catalog_csrftoken"} <= names
    assert {"video_csrftoken", "checkout_csrftoken"} <= names
    assert "sessionid" not in names and "csrftoken" not in names
    # Alpine's rows everywhere, Harbor's nowhere (404, as for a missing row).
    alpine_tag, harbor_tag = _tag_of(stack, ALPINE), _tag_of(stack, HARBOR)
    tags = f"{bases['video']}/videos/producttag"
    assert browser.get(f"{tags}/{alpine_tag}/change/", timeout=30).status_code == 200
    assert browser.get(f"{tags}/{harbor_tag}/change/", timeout=30).status_code == 404
    merchants = f"{bases['catalog']}/merchants/merchant"
    assert browser.get(f"{merchants}/{ALPINE}/change/", timeout=30).status_code == 200
    assert browser.get(f"{merchants}/{HARBOR}/change/", timeout=30).status_code == 404
    # No password was stored outside catalog: the mirrored user has an unusable one.
    for service in ("video", "checkout"):
        [(password,)] = stack.query(
            service, "SELECT password FROM auth_user WHERE username = 'alpine'"
        )
        assert password.startswith("!")
    # The old collision: signing in again (catalog) kept the video admin signed in.
    _sign_in_again = browser.get(f"{bases['catalog']}/", timeout=30)
    assert _sign_in_again.ok and _signed_in(browser, bases["video"])


def test_signing_out_of_one_admin_signs_out_of_all_three(stack):
    bases = stack.admin_bases()
    browser, _ = _sign_in(stack, "harbor", "harbor-demo")
    assert all(_signed_in(browser, base) for base in bases.values())
    stolen = browser.cookies["clipcart_console"]

    answer = _post_logout(browser, bases["checkout"], "checkout")

    assert answer.status_code == 200
    assert not any(_signed_in(browser, base) for base in bases.values())
    # A copy of the cookie taken before is dead too: catalog ended the sign-in.
    copy = requests.Session()
    copy.cookies.set("clipcart_console", stolen)
    time.sleep(CONSOLE_RECHECK_SECONDS + 1)
    assert not _signed_in(copy, bases["video"])
    login = copy.get(f"{bases['video']}/", timeout=30)
    assert login.url.startswith(f"{bases['video']}/login/")
    assert "signed out" in login.text  # the login page says why


def test_a_staff_user_removed_from_a_merchant_loses_it_everywhere_within_the_recheck(stack):
    bases = stack.admin_bases()
    browser, _ = _sign_in(stack, "alpine", "alpine-demo")
    alpine_tag = _tag_of(stack, ALPINE)
    tag_page = f"{bases['video']}/videos/producttag/{alpine_tag}/change/"
    assert browser.get(tag_page, timeout=30).status_code == 200
    alpine_user = "(SELECT id FROM auth_user WHERE username = 'alpine')"

    try:
        with stack.connect("catalog") as connection:
            connection.execute(
                f"DELETE FROM merchants_merchant_staff WHERE merchant_id = %s "
                f"AND user_id = {alpine_user}",
                (ALPINE,),
            )
        time.sleep(CONSOLE_RECHECK_SECONDS + 1)

        assert browser.get(tag_page, timeout=30).status_code == 404
        merchant = f"{bases['catalog']}/merchants/merchant/{ALPINE}/change/"
        assert browser.get(merchant, timeout=30).status_code == 404
    finally:
        with stack.connect("catalog") as connection:
            connection.execute(
                f"INSERT INTO merchants_merchant_staff (merchant_id, user_id) "
                f"SELECT %s, {alpine_user} ON CONFLICT DO NOTHING",
                (ALPINE,),
            )


def test_a_wrong_password_signs_in_nowhere_and_a_forged_cookie_opens_nothing(stack):
    bases = stack.admin_bases()
    browser, answer = _sign_in(stack, "alpine", "wrong")

    assert answer.status_code == 200 and "correct username and password" in answer.text
    assert "clipcart_console" not in browser.cookies
    assert not any(_signed_in(browser, base) for base in bases.values())
    forged = requests.Session()
    forged.cookies.set("clipcart_console", "made-up:value:signature")
    for base in bases.values():
        # Each admin sends the browser to its own login page.
        page: Any = forged.get(f"{base}/", timeout=30)
        assert page.url.startswith(f"{base}/login/"), page.url
        assert page.status_code == 200 and 'name="password"' in page.text


def test_signed_in_at_the_video_admin_a_merchant_opens_all_three_and_only_their_rows(stack):
    # As a merchant who bookmarked the video admin: its own form, checked by catalog.
    bases = stack.admin_bases()
    browser, answer = _sign_in(stack, "harbor", "harbor-demo", at="video")

    assert answer.url == f"{bases['video']}/" and answer.status_code == 200
    assert all(_signed_in(browser, base) for base in bases.values())
    alpine_tag, harbor_tag = _tag_of(stack, ALPINE), _tag_of(stack, HARBOR)
    tags = f"{bases['video']}/videos/producttag"
    assert browser.get(f"{tags}/{harbor_tag}/change/", timeout=30).status_code == 200
    assert browser.get(f"{tags}/{alpine_tag}/change/", timeout=30).status_code == 404
    merchants = f"{bases['catalog']}/merchants/merchant"
    assert browser.get(f"{merchants}/{HARBOR}/change/", timeout=30).status_code == 200
    assert browser.get(f"{merchants}/{ALPINE}/change/", timeout=30).status_code == 404
    # Signing out at catalog, whose admin followed the sign-in, signs out of all three.
    assert _post_logout(browser, bases["catalog"], "catalog").status_code == 200
    assert not any(_signed_in(browser, base) for base in bases.values())


def test_signing_in_at_checkout_after_catalog_replaces_the_sign_in_everywhere(stack):
    bases = stack.admin_bases()
    browser, _ = _sign_in(stack, "alpine", "alpine-demo")
    first = browser.cookies["clipcart_console"]

    _, answer = _sign_in(stack, "harbor", "harbor-demo", at="checkout", browser=browser)

    assert answer.status_code == 200
    for base in bases.values():
        page = browser.get(f"{base}/", timeout=30)
        assert page.status_code == 200 and "harbor" in page.text, base
    # The earlier sign-in ended: a copy of its cookie opens nothing.
    copy = requests.Session()
    copy.cookies.set("clipcart_console", first)
    time.sleep(CONSOLE_RECHECK_SECONDS + 1)
    assert not _signed_in(copy, bases["video"])


def test_a_wrong_password_at_a_trusting_admin_signs_in_nowhere(stack):
    bases = stack.admin_bases()
    browser, answer = _sign_in(stack, "alpine", "wrong", at="checkout")

    assert answer.status_code == 200 and "correct username and password" in answer.text
    assert "clipcart_console" not in browser.cookies
    assert not any(_signed_in(browser, base) for base in bases.values())
