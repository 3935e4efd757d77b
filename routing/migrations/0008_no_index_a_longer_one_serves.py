"""As leads 0037: the plain index of each reference goes, the state by AlterField."""

import importlib

import django.db.models.deletion
from django.db import migrations, models

shared = importlib.import_module("leads.migrations.0037_no_index_a_longer_one_serves")


FIELDS = [
    ("poolmember", "pool"),
    ("routingrule", "ruleset"),
]


class Migration(migrations.Migration):

    dependencies = [
        ("leads", "0037_no_index_a_longer_one_serves"),
        ('routing', '0007_decision_no_single_column_lead_index'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
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
            ],
            database_operations=[shared.drop_plain_indexes("routing", FIELDS)],
        ),
    ]
