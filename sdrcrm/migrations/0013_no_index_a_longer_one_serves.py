"""As leads 0037: the plain index of each reference goes, the state by AlterField."""

import importlib

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

shared = importlib.import_module("leads.migrations.0037_no_index_a_longer_one_serves")


FIELDS = [
    ("idempotentrequest", "user"),
    ("notification", "user"),
    ("webhookdelivery", "endpoint"),
]


class Migration(migrations.Migration):

    dependencies = [
        ("leads", "0037_no_index_a_longer_one_serves"),
        ('sdrcrm', '0012_webhook_claims'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
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
            ],
            database_operations=[shared.drop_plain_indexes("sdrcrm", FIELDS)],
        ),
    ]
