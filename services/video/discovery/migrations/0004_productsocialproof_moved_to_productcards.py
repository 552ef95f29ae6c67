# The model moved to productcards (issue 14); its table stays, now productcards' model.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('discovery', '0003_social_feedback'),
        ('productcards', '0003_productsocialproof'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name='ProductSocialProof'),
            ],
        ),
    ]
