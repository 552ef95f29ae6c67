"""Which catalog merchant an admin user works for, and admin scoping built on it.

Merchants live in catalog; the other services know them by id. Their admins show a
merchant's staff only that merchant's rows (`MerchantScopedAdminMixin`)."""
