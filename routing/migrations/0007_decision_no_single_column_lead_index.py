"""The single-column foreign-key indexes that a composite index already leads with are dropped:
every ingested activity, ledger row and routing decision wrote each one for nothing (issue 18)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('leads', '0034_activity_no_single_column_person_indexes'),
        ('routing', '0006_take_turn_locks_the_lead_first'),
    ]

    operations = [
        migrations.AlterField(
            model_name='routingdecision',
            name='lead',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='routing_decisions', to='leads.lead'),
        ),
    ]
