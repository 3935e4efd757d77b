"""As leads 0037: the plain index of each reference goes, the state by AlterField."""

import importlib

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

shared = importlib.import_module("leads.migrations.0037_no_index_a_longer_one_serves")


FIELDS = [
    ("iqm", "contact"),
    ("iqm", "lead"),
    ("iqm", "opportunity"),
    ("iqm", "sdr"),
    ("opportunity", "account"),
    ("opportunity", "owner"),
    ("opportunity", "sdr"),
    ("stagechange", "opportunity"),
]


class Migration(migrations.Migration):

    dependencies = [
        ('leads', '0037_no_index_a_longer_one_serves'),
        ('opportunities', '0004_soft_delete'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='iqm',
                    name='contact',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='iqms', to='leads.contact'),
                ),
                migrations.AlterField(
                    model_name='iqm',
                    name='lead',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='iqms', to='leads.lead'),
                ),
                migrations.AlterField(
                    model_name='iqm',
                    name='opportunity',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='iqms', to='opportunities.opportunity'),
                ),
                migrations.AlterField(
                    model_name='iqm',
                    name='sdr',
                    field=models.ForeignKey(db_index=False, help_text='Assigned to', on_delete=django.db.models.deletion.PROTECT, related_name='iqms', to=settings.AUTH_USER_MODEL),
                ),
                migrations.AlterField(
                    model_name='opportunity',
                    name='account',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='opportunities', to='leads.account'),
                ),
                migrations.AlterField(
                    model_name='opportunity',
                    name='owner',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='owned_opportunities', to=settings.AUTH_USER_MODEL),
                ),
                migrations.AlterField(
                    model_name='opportunity',
                    name='sdr',
                    field=models.ForeignKey(blank=True, db_index=False, help_text='The credited SDR/BDR; never the owner', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='credited_opportunities', to=settings.AUTH_USER_MODEL),
                ),
                migrations.AlterField(
                    model_name='stagechange',
                    name='opportunity',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='stage_changes', to='opportunities.opportunity'),
                ),
            ],
            database_operations=[shared.drop_plain_indexes("opportunities", FIELDS)],
        ),
    ]
