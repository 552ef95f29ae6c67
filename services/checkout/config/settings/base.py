"""Checkout settings: carts, checkouts, orders, payments (Stripe) and the webhook log."""

from clipcart_shared.logs import logging_config
from clipcart_shared.settings import *  # noqa: F403
from clipcart_shared.settings import (
    DJANGO_APPS,
    LOG_JSON,
    LOG_LEVEL,
    RETENTION_SECONDS,
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

SERVICE_NAME = "checkout"

INSTALLED_APPS = [
    *DJANGO_APPS,
    *THIRD_PARTY_APPS,
    *SHARED_APPS,
    "clipcart_shared.merchant_access",
    "core",
    "carts",
    "orders",
    "payments",
    "merchant_api",
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
    "orders.view_order",
    "orders.view_orderline",
    "orders.view_refund",
    "orders.add_refund",
    "orders.view_orderreturn",
    "orders.change_orderreturn",
    "orders.view_merchantpolicy",
    "orders.add_merchantpolicy",
    "orders.change_merchantpolicy",
    "orders.view_shipment",
    "orders.add_shipment",
    "merchant_api.view_merchantapikey",
    "merchant_api.add_merchantapikey",
    "merchant_api.change_merchantapikey",
    # "Set up payouts" for their own merchant (payments.admin)
    "payments.view_merchantpayoutaccount",
    "payments.add_merchantpayoutaccount",
    # Their transfers (payments.admin; the ledger itself is platform staff's)
    "payments.view_merchanttransfer",
]
STATIC_URL = "/checkout/static/"
# How the admin knows which merchants a staff user acts for (clipcart_shared.admin).
MERCHANT_IDS_FOR_USER = "clipcart_shared.merchant_access.models.merchant_ids_for_user"
# The admin's home page: sales, what to ship, payments' pipes (ADR 28).
CONSOLE_HOME = "orders.admin.home.home_panels"

SPECTACULAR_SETTINGS = {
    **SPECTACULAR_SETTINGS,
    "TITLE": "clipcart checkout",
    "DESCRIPTION": "Carts, checkout with Stripe, orders, and Stripe's webhooks.",
    # Orders and shipments both have a `status`: each its own enum in the schema. A
    # return's `reason` is named apart from video's not-interested `reason`: the gateway's
    # one API document holds both (ADR 29).
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "orders.models.Order.Status",
        "ShipmentStatusEnum": "orders.models.Shipment.Status",
        "TrackingStatusEnum": "orders.services.tracking.TRACKING_STATUSES",
        "ReturnReasonEnum": "orders.models.OrderReturn.Reason",
    },
}

CATALOG_URL = service_url("catalog")
# Asked whether a cart line's source (video, tag) may drive the sale of its product.
VIDEO_URL = service_url("video")

# Stripe: the emulator (localstripe) in the embedded run, Stripe itself with real keys.
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="sk_test_clipcart_local")
STRIPE_PUBLISHABLE_KEY = env.str("STRIPE_PUBLISHABLE_KEY", default="pk_test_clipcart_local")
# Empty: Stripe's own API. The embedded run points this at the emulator.
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="")
# Signing secrets of the webhook endpoint: verify against each (rotation).
STRIPE_WEBHOOK_SECRETS = env.list("STRIPE_WEBHOOK_SECRETS", default=["whsec_clipcart_local"])
STRIPE_WEBHOOK_TOLERANCE_SECONDS = 300
# What the mobile payment sheet gets to show saved cards: `customer_session` (Stripe's
# current way), `ephemeral_key` (older SDKs) or `none` (the emulator has neither).
STRIPE_MOBILE_CUSTOMER_KEY = env.str("STRIPE_MOBILE_CUSTOMER_KEY", default="none")
STRIPE_TIMEOUT_SECONDS = env.int("STRIPE_TIMEOUT_SECONDS", default=20)

# A logged Stripe event still unapplied after this long (its task was lost) is applied by
# the sweep, which runs this often.
WEBHOOK_SWEEP_SECONDS = env.int("WEBHOOK_SWEEP_SECONDS", default=60)
CHECKOUT_RESERVATION_SECONDS = env.int("CHECKOUT_RESERVATION_SECONDS", default=15 * 60)
# Unpaid, unexpired checkouts one buyer may hold at once (orders.limits); the units of one
# variant across them are capped by its merchant (catalog's `max_units_per_buyer`).
MAX_OPEN_CHECKOUTS = env.int("MAX_OPEN_CHECKOUTS", default=3)
MAX_CART_LINES = 50
MAX_LINE_QUANTITY = 99

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="orders@clipcart.local")

# Shipping: a shipment nobody (merchant, carrier) marked delivered is delivered this many
# days after it shipped.
FULFILMENT_AUTO_DELIVER_DAYS = env.int("FULFILMENT_AUTO_DELIVER_DAYS", default=14)
# The platform's fee on a merchant's settled part, in basis points (a merchant's policy
# may set its own); what is left after it and the creators' commission is transferred.
PLATFORM_FEE_BPS = env.int("PLATFORM_FEE_BPS", default=500)
# Merchants are paid in batches (ADR 38): each period (from Monday 00:00 UTC; default a
# day) one Stripe transfer per merchant account and currency sends what settled and was
# not transferred yet. Short in the demo and the end-to-end run.
MERCHANT_TRANSFER_PERIOD_SECONDS = env.int("MERCHANT_TRANSFER_PERIOD_SECONDS", default=86_400)
# The ledger audit compares the commission owed to creators with video's creator balances
# as of this long ago (video settles per line, checkout per merchant part: what is newer
# may not have reached both yet).
CREATOR_BALANCE_AUDIT_GRACE_SECONDS = env.int(
    "CREATOR_BALANCE_AUDIT_GRACE_SECONDS", default=2 * 86_400
)
# A demo's or an end-to-end run's return window in seconds, for every merchant in place of
# its policy's days, so that a sale is seen to settle (unset: the policies decide; the
# production settings refuse it).
RETURN_WINDOW_SECONDS = env.int("RETURN_WINDOW_SECONDS", default=0) or None
# The carrier tracking webhook (`POST /api/v1/webhooks/tracking/`): its signing secret
# (empty: every request is refused) and how old a signature may be.
TRACKING_WEBHOOK_SECRET = env.str("TRACKING_WEBHOOK_SECRET", default="tracking_clipcart_local")
TRACKING_WEBHOOK_TOLERANCE_SECONDS = 300

CELERY_TASK_DEFAULT_QUEUE = SERVICE_NAME
# What this service publishes, and to whom: each type is a constant of orders/events.py;
# each queue's service has a handler for it (ADR 19). `order.cancelled` is written to the
# outbox but goes nowhere: no service consumes it (video has nothing to credit for an order
# never paid).
EVENT_ROUTES = {
    "order.paid": [
        "checkout.events",
        *env.list("ORDER_EVENT_QUEUES", default=["video.attribution"]),
    ],
    # On `checkout.events` too: a refund's units back to stock in catalog (restock).
    "order.refunded": [
        "checkout.events",
        *env.list("ORDER_EVENT_QUEUES", default=["video.attribution"]),
    ],
    # A return holds its units from settling until it closes (video's attribution).
    "order.return_requested": env.list("ORDER_EVENT_QUEUES", default=["video.attribution"]),
    "order.return_closed": env.list("ORDER_EVENT_QUEUES", default=["video.attribution"]),
    # The buyer's emails; video's attribution learns deliveries (settlement follows them).
    "order.shipped": ["checkout.events"],
    "order.delivered": [
        "checkout.events",
        *env.list("ORDER_EVENT_QUEUES", default=["video.attribution"]),
    ],
}
# What it consumes: its own `order.paid` (confirmation), `order.refunded` (restock what was
# paid back), `order.shipped` and `order.delivered` (the buyer's emails); the table is
# config/event_handlers.py.
EVENT_HANDLERS = "config.event_handlers.EVENT_HANDLERS"
CELERY_BEAT_SCHEDULE = {
    **SHARED_BEAT_SCHEDULE,
    "expire-unpaid-orders": {
        "task": "orders.orders_expire",
        "schedule": env.int("ORDER_EXPIRY_SWEEP_SECONDS", default=60),
    },
    "prune-lapsed-checkout-holds": {"task": "orders.checkout_holds_prune", "schedule": 3600},
    "apply-waiting-stripe-events": {
        "task": "orders.stripe_events_sweep",
        "schedule": WEBHOOK_SWEEP_SECONDS,
    },
    "deliver-shipments-after-timeout": {
        "task": "orders.shipments_auto_deliver",
        "schedule": env.int("AUTO_DELIVER_SWEEP_SECONDS", default=3600),
    },
    # Merchants' settled parts become Stripe transfers; reversals follow refunds (ADR 30).
    "settle-and-transfer-to-merchants": {
        "task": "orders.merchant_transfers_sweep",
        "schedule": env.int("MERCHANT_TRANSFER_SWEEP_SECONDS", default=600),
    },
    "audit-the-ledger": {
        "task": "orders.ledger_audit",
        "schedule": env.int("LEDGER_AUDIT_SECONDS", default=3600),
    },
    "reconcile-pending-payments": {
        "task": "orders.payments_reconcile",
        "schedule": env.int("PAYMENT_RECONCILE_SECONDS", default=300),
    },
}

# Retention: Stripe event payloads (buyers' personal data) of applied or ignored events,
# and carts left empty, after this many days.
WEBHOOK_PAYLOAD_RETENTION_DAYS = env.int("WEBHOOK_PAYLOAD_RETENTION_DAYS", default=30)
EMPTY_CART_RETENTION_DAYS = env.int("EMPTY_CART_RETENTION_DAYS", default=30)
CELERY_BEAT_SCHEDULE |= {
    "scrub-stripe-event-payloads": {
        "task": "payments.webhook_payloads_scrub",
        "schedule": RETENTION_SECONDS,
    },
    "prune-empty-carts": {"task": "carts.carts_prune", "schedule": RETENTION_SECONDS},
}
