"""The database cache table (Django's `DatabaseCache`), created whatever `CACHES` says now,
so that every deployment has it: the embedded run counts throttles in it, and a deployment
that drops `CACHE_URL` later needs no `createcachetable`. The same columns
`createcachetable` makes; IF NOT EXISTS for a database where that already ran."""

from django.db import migrations

TABLE = "clipcart_cache"

CREATE = f"""
CREATE TABLE IF NOT EXISTS "{TABLE}" (
    "cache_key" varchar(255) NOT NULL PRIMARY KEY,
    "value" text NOT NULL,
    "expires" timestamp with time zone NOT NULL
);
CREATE INDEX IF NOT EXISTS "{TABLE}_expires" ON "{TABLE}" ("expires");
"""


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [migrations.RunSQL(CREATE, reverse_sql=f'DROP TABLE IF EXISTS "{TABLE}";')]
