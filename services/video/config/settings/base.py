"""Video settings: creators, videos, product tags, engagement events, the product-card read
model, and attribution of sales to videos and creators."""

from clipcart_shared.logs import logging_config
from clipcart_shared.settings import *  # noqa: F403
from clipcart_shared.settings import (
    DJANGO_APPS,
    LOG_JSON,
    LOG_LEVEL,
    SHARED_APPS,
    SHARED_BEAT_SCHEDULE,
    SPECTACULAR_SETTINGS,
    THIRD_PARTY_APPS,
    admin_cookie_names,
    database_settings,
    env,
    middleware_with_sign_in,
    service_url,
)

SERVICE_NAME = "video"

INSTALLED_APPS = [
    *DJANGO_APPS,
    *THIRD_PARTY_APPS,
    *SHARED_APPS,
    "clipcart_shared.merchant_access",
    "core",
    "creators",
    "productcards",
    "videos",
    "engagement",
    "attribution",
    "discovery",
    "payouts",
    # Above every app: the demo seed writes rows of several of them.
    "demo",
]

DATABASES = database_settings(SERVICE_NAME)
LOGGING = logging_config(service=SERVICE_NAME, level=LOG_LEVEL, json=LOG_JSON)
# One sign-in for the three admins (ADR 23); each admin's own cookies apart.
MIDDLEWARE = middleware_with_sign_in("clipcart_shared.console.trust.TrustedSignInMiddleware")
SESSION_COOKIE_NAME, CSRF_COOKIE_NAME, SESSION_COOKIE_PATH = admin_cookie_names(SERVICE_NAME)
CSRF_COOKIE_PATH = SESSION_COOKIE_PATH
# What merchant staff (catalog's non-superuser staff) may do in this admin: the
# "Merchant staff" group the console gives them here holds these permissions.
CONSOLE_STAFF_PERMISSIONS = [
    "videos.view_video",
    "videos.view_producttag",
    "videos.add_producttag",
    "videos.change_producttag",
    "videos.delete_producttag",
    "creators.view_creator",
    "engagement.view_dailyvideostats",
    "attribution.view_salesreport",
    "attribution.view_saleline",
    "attribution.view_merchantattributionsettings",
    "attribution.add_merchantattributionsettings",
    "attribution.change_merchantattributionsettings",
    "attribution.view_productcommissionrate",
    "attribution.add_productcommissionrate",
    "attribution.change_productcommissionrate",
    "attribution.delete_productcommissionrate",
]
STATIC_URL = "/video/static/"
# How the admin knows which merchants a staff user acts for (clipcart_shared.admin).
MERCHANT_IDS_FOR_USER = "clipcart_shared.merchant_access.models.merchant_ids_for_user"
# The admin's home page: attributed sales, top videos and creators, today's engagement
# counted live (ADR 28).
CONSOLE_HOME = "attribution.home.home_panels"

SPECTACULAR_SETTINGS = {
    **SPECTACULAR_SETTINGS,
    "TITLE": "clipcart video",
    "DESCRIPTION": "The shoppable feed, creators and their videos with timed product tags, "
    "and engagement events from the app.",
    # Named apart from checkout's return `reason`: the gateway's one API document holds
    # both (ADR 29).
    "ENUM_NAME_OVERRIDES": {"NotInterestedReasonEnum": "discovery.models.NotInterested.Reason"},
}

CATALOG_URL = service_url("catalog")
CHECKOUT_URL = service_url("checkout")
MAX_TAGS_PER_VIDEO = 30

# Stripe Connect: creators' payout accounts (ADR 27). The platform's key, as checkout's
# (the same Stripe account); the emulator (localstripe) in the embedded run.
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="sk_test_clipcart_local")
# Empty: Stripe's own API. The embedded run points this at the emulator.
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="")
STRIPE_TIMEOUT_SECONDS = env.int("STRIPE_TIMEOUT_SECONDS", default=20)
# Signing secrets of video's Connect webhook endpoint
# (`/api/v1/creators/payout-accounts/stripe-webhook/`): verify against each (rotation).
VIDEO_STRIPE_WEBHOOK_SECRETS = env.list(
    "VIDEO_STRIPE_WEBHOOK_SECRETS", default=["whsec_clipcart_connect_local"]
)
STRIPE_WEBHOOK_TOLERANCE_SECONDS = 300
# Where Stripe's onboarding sends the creator back: `return` when they leave it (finished
# or not), `refresh` when their link expired or was used (the app then asks for a new one).
CREATOR_PAYOUT_RETURN_URL = env.str(
    "CREATOR_PAYOUT_RETURN_URL", default="http://localhost:8000/app/payouts/return/"
)
CREATOR_PAYOUT_REFRESH_URL = env.str(
    "CREATOR_PAYOUT_REFRESH_URL", default="http://localhost:8000/app/payouts/refresh/"
)

# Creators' payouts (ADR 33): their settled commission, less clawbacks, paid in batches
# of this period (weekly by default; periods start on Mondays 00:00 UTC), once per account
# and batch, when at least the minimum (minor units, any currency); below it, or without
# an enabled account, it rolls over. The run (beat) looks this often for what is due.
CREATOR_PAYOUT_PERIOD_SECONDS = env.int("CREATOR_PAYOUT_PERIOD_SECONDS", default=7 * 24 * 3600)
CREATOR_PAYOUT_MINIMUM_AMOUNT = env.int("CREATOR_PAYOUT_MINIMUM_AMOUNT", default=1000)
CREATOR_PAYOUT_RUN_SECONDS = env.int("CREATOR_PAYOUT_RUN_SECONDS", default=3600)

# Reconciliation (ADR 9): every so often, checkout's paid orders, refunds, deliveries and
# returns of the last hours are compared with what was applied, and any lost order event
# is applied then. Events younger than the delay are left to their delivery. (A sale
# settles after its delivery's return window, not after ATTRIBUTION_SETTLEMENT_DAYS,
# which is gone: ADR 26.)
ATTRIBUTION_RECONCILE_SECONDS = env.int("ATTRIBUTION_RECONCILE_SECONDS", default=300)
ATTRIBUTION_RECONCILE_HOURS = env.int("ATTRIBUTION_RECONCILE_HOURS", default=24)
ATTRIBUTION_RECONCILE_DELAY_SECONDS = env.int("ATTRIBUTION_RECONCILE_DELAY_SECONDS", default=60)

CELERY_TASK_DEFAULT_QUEUE = SERVICE_NAME
# The events this service consumes, and the function applying each (ADR 19). It publishes
# none (no EVENT_ROUTES).
EVENT_HANDLERS = "config.event_handlers.EVENT_HANDLERS"
# Reconciliation applies orders like the events do, so it runs on their worker and queue.
CELERY_TASK_ROUTES = {"attribution.reconcile": {"queue": "video.attribution"}}
# "For you", ranked ahead (discovery.models.ForYouRanking): a first page reads the user's
# kept ranking while nothing they did since changed it and it is at most this old (what
# others do, new videos and trending reach it within that time); the worker ranks the users
# active in the last FOR_YOU_ACTIVE_SECONDS every FOR_YOU_RANK_SECONDS.
FOR_YOU_RANKING_MAX_AGE_SECONDS = env.int("FOR_YOU_RANKING_MAX_AGE_SECONDS", default=300)
FOR_YOU_ACTIVE_SECONDS = env.int("FOR_YOU_ACTIVE_SECONDS", default=600)
FOR_YOU_RANK_SECONDS = env.int("FOR_YOU_RANK_SECONDS", default=30)
CELERY_BEAT_SCHEDULE = {
    **SHARED_BEAT_SCHEDULE,
    "roll-up-engagement": {
        "task": "engagement.stats_roll_up",
        "schedule": env.int("ENGAGEMENT_ROLLUP_SECONDS", default=300),
    },
    "recompute-trending": {
        "task": "discovery.trending_recompute",
        "schedule": env.int("TRENDING_SECONDS", default=300),
    },
    "rank-for-you": {
        "task": "discovery.for_you_rankings_refresh",
        "schedule": FOR_YOU_RANK_SECONDS,
        # A run the worker could not take in time is dropped: the next one covers it.
        "options": {"expires": FOR_YOU_RANK_SECONDS},
    },
    "reconcile-attribution": {
        "task": "attribution.reconcile",
        "schedule": ATTRIBUTION_RECONCILE_SECONDS,
        # A run the worker could not take in time is dropped: the next one covers it.
        "options": {"expires": ATTRIBUTION_RECONCILE_SECONDS},
    },
    "creator-payouts": {
        "task": "payouts.creator_payouts_run",
        "schedule": CREATOR_PAYOUT_RUN_SECONDS,
        "options": {"expires": CREATOR_PAYOUT_RUN_SECONDS},
    },
}

# Discovery: a ranked feed (trending, for you) is kept as a snapshot of this many videos,
# which cursors page through for this long.
FEED_SNAPSHOT_SIZE = env.int("FEED_SNAPSHOT_SIZE", default=500)
FEED_SNAPSHOT_SECONDS = env.int("FEED_SNAPSHOT_SECONDS", default=24 * 3600)
# "For you": the share of every first page that goes to fresh videos (published in the last
# two days, little engagement yet), so that new creators get reach.
FEED_FRESH_SHARE = env.float("FEED_FRESH_SHARE", default=0.10)
