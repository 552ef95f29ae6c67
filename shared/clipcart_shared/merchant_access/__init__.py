"""Which catalog merchant an admin user works for.

Merchants live in catalog; the other services know them by id. Their admins show a
merchant's staff only that merchant's rows (`clipcart_shared.admin.MerchantScopedAdminMixin`,
with `MERCHANT_IDS_FOR_USER` pointing at `models.merchant_ids_for_user`)."""
