"""Credits stored compact (issue 18, ADR 9): one `CreditTouch` row per (line, touch,
refund) with the five models' amounts and commissions as columns, instead of one row per
model. `attribution_credit` becomes a view giving the rows as before (`Credit`, read-only),
with ids = touch id x 8 + the model's place. Existing credits are moved, and the creator
balance entries that name a credit (`credit:<id>`) are renamed to the credit's new id, so a
settled line's commission is never entered twice. Not reversible.
"""

import django.db.models.deletion
from django.db import migrations, models

MOVE = """
INSERT INTO attribution_credittouch (sale_line_id, position, refund_id, video_id, creator_id,
    touch_type, touched_at, merchant_id, product_id, currency, commission_rate_bps,
    is_self_purchase, occurred_at, paid_at, created_at, last_touch_amount, last_touch_commission, first_touch_amount, first_touch_commission, linear_amount, linear_commission, time_decay_amount, time_decay_commission, position_based_amount, position_based_commission)
SELECT c.sale_line_id, c.position, c.refund_id, min(c.video_id::text)::uuid,
    min(c.creator_id::text)::uuid, min(c.touch_type), min(c.touched_at), min(c.merchant_id::text)::uuid,
    min(c.product_id::text)::uuid, min(c.currency), max(c.commission_rate_bps), bool_or(c.is_self_purchase),
    min(c.occurred_at), min(c.paid_at), min(c.created_at),
    max(c.amount) FILTER (WHERE c.model = 'last_touch'), max(c.commission_amount) FILTER (WHERE c.model = 'last_touch'),
    max(c.amount) FILTER (WHERE c.model = 'first_touch'), max(c.commission_amount) FILTER (WHERE c.model = 'first_touch'),
    max(c.amount) FILTER (WHERE c.model = 'linear'), max(c.commission_amount) FILTER (WHERE c.model = 'linear'),
    max(c.amount) FILTER (WHERE c.model = 'time_decay'), max(c.commission_amount) FILTER (WHERE c.model = 'time_decay'),
    max(c.amount) FILTER (WHERE c.model = 'position_based'), max(c.commission_amount) FILTER (WHERE c.model = 'position_based')
FROM attribution_credit c
GROUP BY c.sale_line_id, c.position, c.refund_id;

CREATE TEMPORARY TABLE attribution_credit_renamed ON COMMIT DROP AS
SELECT 'credit:' || c.id AS old_key, 'credit:' || (t.id * 8 + CASE c.model WHEN 'last_touch' THEN 0 WHEN 'first_touch' THEN 1 WHEN 'linear' THEN 2 WHEN 'time_decay' THEN 3 WHEN 'position_based' THEN 4 END) AS new_key
FROM attribution_credit c
JOIN attribution_credittouch t ON t.sale_line_id = c.sale_line_id AND t.position = c.position
    AND t.refund_id IS NOT DISTINCT FROM c.refund_id;

-- Balance entries are append-only by trigger; renaming their source is the one exception.
-- In two steps, so that no new key meets an old one still there. (ALTER TABLE needs no
-- deferred check pending.)
SET CONSTRAINTS ALL IMMEDIATE;
ALTER TABLE payouts_balanceentry DISABLE TRIGGER balance_entry_append_only;
UPDATE payouts_balanceentry b SET source_key = 'moving:' || r.new_key
FROM attribution_credit_renamed r WHERE b.source_key = r.old_key;
UPDATE payouts_balanceentry SET source_key = substr(source_key, 8)
WHERE source_key LIKE 'moving:credit:%';
ALTER TABLE payouts_balanceentry ENABLE TRIGGER balance_entry_append_only;

DROP TABLE attribution_credit;
"""

VIEW = """
CREATE VIEW attribution_credit AS
SELECT t.id * 8 + m.ordinal AS id, t.sale_line_id, m.model, t.position, t.refund_id,
    t.video_id, t.creator_id, t.touch_type, t.touched_at, t.merchant_id, t.product_id,
    t.currency, m.amount, t.commission_rate_bps, m.commission_amount, t.is_self_purchase,
    t.occurred_at, t.paid_at, t.created_at
FROM attribution_credittouch t
CROSS JOIN LATERAL (VALUES
        (0, 'last_touch'::varchar(20), t.last_touch_amount, t.last_touch_commission),
        (1, 'first_touch'::varchar(20), t.first_touch_amount, t.first_touch_commission),
        (2, 'linear'::varchar(20), t.linear_amount, t.linear_commission),
        (3, 'time_decay'::varchar(20), t.time_decay_amount, t.time_decay_commission),
        (4, 'position_based'::varchar(20), t.position_based_amount, t.position_based_commission)
) AS m(ordinal, model, amount, commission_amount)
WHERE m.amount IS NOT NULL;
"""


class Migration(migrations.Migration):

    dependencies = [
        ('attribution', '0006_creator_codes'),
        ('payouts', '0002_payout_batches'),
    ]

    operations = [
        migrations.RemoveIndex(model_name='credit', name='credit_merchant_idx'),
        migrations.RemoveIndex(model_name='credit', name='credit_creator_idx'),
        migrations.RemoveIndex(model_name='credit', name='credit_video_idx'),
        migrations.RemoveConstraint(model_name='credit', name='credit_once'),
        migrations.RemoveConstraint(model_name='credit', name='credit_sale_not_negative'),
        migrations.RemoveConstraint(model_name='credit', name='credit_rate_at_most_100pct'),
        migrations.RemoveConstraint(model_name='credit', name='credit_self_purchase_earns_nothing'),
        migrations.AlterModelOptions(
            name='credit',
            options={'managed': False, 'ordering': ['sale_line', 'model', 'position', 'occurred_at']},
        ),
        migrations.CreateModel(
            name='CreditTouch',
            fields=[
                ('id', models.BigAutoField(primary_key=True, serialize=False)),
                ('position', models.PositiveSmallIntegerField()),
                ('refund_id', models.UUIDField(blank=True, null=True)),
                ('video_id', models.UUIDField(blank=True, null=True)),
                ('creator_id', models.UUIDField(blank=True, null=True)),
                ('touch_type', models.CharField(blank=True, max_length=20)),
                ('touched_at', models.DateTimeField(blank=True, null=True)),
                ('merchant_id', models.UUIDField()),
                ('product_id', models.UUIDField()),
                ('currency', models.CharField(max_length=3)),
                ('commission_rate_bps', models.PositiveIntegerField()),
                ('is_self_purchase', models.BooleanField(db_default=False, default=False)),
                ('occurred_at', models.DateTimeField()),
                ('paid_at', models.DateTimeField()),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('last_touch_amount', models.IntegerField(blank=True, null=True)),
                ('last_touch_commission', models.IntegerField(blank=True, null=True)),
                ('first_touch_amount', models.IntegerField(blank=True, null=True)),
                ('first_touch_commission', models.IntegerField(blank=True, null=True)),
                ('linear_amount', models.IntegerField(blank=True, null=True)),
                ('linear_commission', models.IntegerField(blank=True, null=True)),
                ('time_decay_amount', models.IntegerField(blank=True, null=True)),
                ('time_decay_commission', models.IntegerField(blank=True, null=True)),
                ('position_based_amount', models.IntegerField(blank=True, null=True)),
                ('position_based_commission', models.IntegerField(blank=True, null=True)),
                ('sale_line', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='credit_touches', to='attribution.saleline')),
            ],
            options={
                'ordering': ['sale_line', 'position', 'occurred_at'],
                'indexes': [models.Index(fields=['merchant_id', 'paid_at'], name='credit_touch_merchant_idx'), models.Index(fields=['creator_id', 'paid_at'], name='credit_touch_creator_idx'), models.Index(fields=['video_id', 'paid_at'], name='credit_touch_video_idx')],
                'constraints': [models.UniqueConstraint(fields=('sale_line', 'position', 'refund_id'), name='credit_touch_once', nulls_distinct=False), models.CheckConstraint(condition=models.Q(models.Q(models.Q(('last_touch_amount__isnull', True), ('last_touch_commission__isnull', True)), models.Q(('last_touch_amount__isnull', False), ('last_touch_commission__isnull', False)), _connector='OR'), models.Q(models.Q(('first_touch_amount__isnull', True), ('first_touch_commission__isnull', True)), models.Q(('first_touch_amount__isnull', False), ('first_touch_commission__isnull', False)), _connector='OR'), models.Q(models.Q(('linear_amount__isnull', True), ('linear_commission__isnull', True)), models.Q(('linear_amount__isnull', False), ('linear_commission__isnull', False)), _connector='OR'), models.Q(models.Q(('time_decay_amount__isnull', True), ('time_decay_commission__isnull', True)), models.Q(('time_decay_amount__isnull', False), ('time_decay_commission__isnull', False)), _connector='OR'), models.Q(models.Q(('position_based_amount__isnull', True), ('position_based_commission__isnull', True)), models.Q(('position_based_amount__isnull', False), ('position_based_commission__isnull', False)), _connector='OR')), name='credit_touch_pairs'), models.CheckConstraint(condition=models.Q(('last_touch_amount__isnull', False), ('first_touch_amount__isnull', False), ('linear_amount__isnull', False), ('time_decay_amount__isnull', False), ('position_based_amount__isnull', False), _connector='OR'), name='credit_touch_some_model'), models.CheckConstraint(condition=models.Q(('refund_id__isnull', False), models.Q(models.Q(('last_touch_amount__isnull', True), ('last_touch_amount__gte', 0), _connector='OR'), models.Q(('first_touch_amount__isnull', True), ('first_touch_amount__gte', 0), _connector='OR'), models.Q(('linear_amount__isnull', True), ('linear_amount__gte', 0), _connector='OR'), models.Q(('time_decay_amount__isnull', True), ('time_decay_amount__gte', 0), _connector='OR'), models.Q(('position_based_amount__isnull', True), ('position_based_amount__gte', 0), _connector='OR'), models.Q(('last_touch_commission__isnull', True), ('last_touch_commission__gte', 0), _connector='OR'), models.Q(('first_touch_commission__isnull', True), ('first_touch_commission__gte', 0), _connector='OR'), models.Q(('linear_commission__isnull', True), ('linear_commission__gte', 0), _connector='OR'), models.Q(('time_decay_commission__isnull', True), ('time_decay_commission__gte', 0), _connector='OR'), models.Q(('position_based_commission__isnull', True), ('position_based_commission__gte', 0), _connector='OR')), _connector='OR'), name='credit_touch_sale_not_negative'), models.CheckConstraint(condition=models.Q(('commission_rate_bps__lte', 10000)), name='credit_touch_rate_at_most_100pct'), models.CheckConstraint(condition=models.Q(('is_self_purchase', False), models.Q(models.Q(('last_touch_commission__isnull', True), ('last_touch_commission', 0), _connector='OR'), models.Q(('first_touch_commission__isnull', True), ('first_touch_commission', 0), _connector='OR'), models.Q(('linear_commission__isnull', True), ('linear_commission', 0), _connector='OR'), models.Q(('time_decay_commission__isnull', True), ('time_decay_commission', 0), _connector='OR'), models.Q(('position_based_commission__isnull', True), ('position_based_commission', 0), _connector='OR')), _connector='OR'), name='credit_touch_self_purchase_earns_nothing')],
            },
        ),
        migrations.RunSQL(MOVE),
        migrations.RunSQL(VIEW),
    ]
