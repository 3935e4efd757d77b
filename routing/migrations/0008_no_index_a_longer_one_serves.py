"""The single-column indexes of these references go: each is the leading part of a longer
index on its table (or of a unique constraint), which finds the same rows, so it only cost
every write of the table (tests/sdrcrm/test_no_redundant_indexes.py)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('routing', '0007_decision_no_single_column_lead_index'),
    ]

    operations = [
        migrations.AlterField(
            model_name='poolmember',
            name='pool',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='members', to='routing.pool'),
        ),
        migrations.AlterField(
            model_name='routingrule',
            name='ruleset',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='rules', to='routing.ruleset'),
        ),
    ]
