# The model moved from discovery to productcards (issue 14); its table stays where it is.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('discovery', '0001_search_trending_snapshots'),
        ('productcards', '0002_productcard_category_slug'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='ProductSocialProof',
                    fields=[
                        ('product_id', models.UUIDField(primary_key=True, serialize=False)),
                        ('units_30d', models.PositiveIntegerField()),
                    ],
                    options={
                        'db_table': 'discovery_productsocialproof',
                    },
                ),
            ],
        ),
    ]
