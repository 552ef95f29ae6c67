"""One sign-in for the three admins (ADR 23, "the merchant console").

Catalog owns staff identity: the users, their passwords, which merchants they work for
(`Merchant.staff`) and their sign-ins (`staff.StaffSession`). Signing in at any admin's
login page sets one shared cookie, `clipcart_console`, on the host (path `/`): a random
token, signed with `CONSOLE_SIGNING_KEY`. Video's and checkout's admins never check a
password: their login form passes it on to catalog (`site.py`); they verify the cookie's
signature, ask catalog over the internal API who the token belongs to (the answer kept
at most `CONSOLE_RECHECK_SECONDS`, ≤ 60) and act as that user. Each admin keeps its own
Django session and CSRF cookies under names and a path of its own
(`<service>_sessionid`, `/<service>/admin/`), so none overwrites another on one host.
"""
