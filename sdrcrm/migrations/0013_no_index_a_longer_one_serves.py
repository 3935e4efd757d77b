"""The single-column indexes of these references go: each is the leading part of a longer
index on its table (or of a unique constraint), which finds the same rows, so it only cost
every write of the table (tests/sdrcrm/test_no_redundant_indexes.py)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('sdrcrm', '0012_webhook_claims'),
    ]

    operations = [
        migrations.AlterField(
            model_name='idempotentrequest',
            name='user',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='notification',
            name='user',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='notifications', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='webhookdelivery',
            name='endpoint',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='sdrcrm.webhookendpoint'),
        ),
    ]
