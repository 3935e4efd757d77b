"""The single-column foreign-key indexes that a composite index already leads with are dropped:
every ingested activity, ledger row and routing decision wrote each one for nothing (issue 18)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('leads', '0034_activity_no_single_column_person_indexes'),
        ('scoring', '0004_touch_types'),
    ]

    operations = [
        migrations.AlterField(
            model_name='scoreentry',
            name='contact',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='score_entries', to='leads.contact'),
        ),
        migrations.AlterField(
            model_name='scoreentry',
            name='lead',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='score_entries', to='leads.lead'),
        ),
    ]
